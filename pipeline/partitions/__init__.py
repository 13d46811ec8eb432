"""Partitioned runs: a district or province split by county or township, each partition
raising its own alerts beside the others, one merge writing the district's files."""
