"""考核评估 and what verification teaches: how townships and villages verify and help
(docs/assistance.md, "Assessment"), and how often each rule's alerts are found true
(docs/assistance.md, "Rule precision")."""

from pipeline.assessment.figures import (
    COLUMNS,
    FIGURES,
    LEVEL_LABELS,
    Period,
    assessment,
    ensure_assistance_schema,
    previous_month,
    running_period,
)
from pipeline.assessment.monthly import is_table_day, monthly_assessment_files
from pipeline.assessment.precision import (
    flag_lines,
    precision_by_category,
    precision_by_township,
    precision_warnings,
)

__all__ = [
    "COLUMNS",
    "FIGURES",
    "LEVEL_LABELS",
    "Period",
    "assessment",
    "ensure_assistance_schema",
    "flag_lines",
    "is_table_day",
    "monthly_assessment_files",
    "precision_by_category",
    "precision_by_township",
    "precision_warnings",
    "previous_month",
    "running_period",
]
