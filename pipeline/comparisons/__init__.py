"""数据比对: each application of the day against the department data in the warehouse."""

from pipeline.comparisons.compare import (
    COLUMNS,
    build_comparisons,
    comparison_findings,
    write_comparisons_csv,
)
from pipeline.comparisons.workbooks import SHEET, write_comparison_workbooks

__all__ = [
    "COLUMNS",
    "SHEET",
    "build_comparisons",
    "comparison_findings",
    "write_comparison_workbooks",
    "write_comparisons_csv",
]
