"""防止返贫动态监测预警流水线: the daily early-warning pipeline of a district bureau.

Entry points: ``python -m pipeline`` (``pipeline.cli``), ``pipeline.daily.run_day`` (the whole
day), ``pipeline.steps`` (the same day as scheduler steps), ``pipeline.demo.generate_district``.
The data flows feeds → validation → warehouse → signals → alerts → dispatch → feedback, one
subpackage each. Nothing here imports Airflow.
"""
