"""The district's daily report: figures from the warehouse, charts, report.html and report.pdf."""
