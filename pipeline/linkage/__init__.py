"""Record linkage: finding the registered person a row names without a usable ID number."""
