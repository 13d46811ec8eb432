"""防止返贫动态监测预警流水线: the daily early-warning pipeline of a district bureau.

Entry points: ``python -m pipeline`` (``pipeline.cli``), ``pipeline.steps`` (the day composed:
its steps, which the CLI and the Airflow DAGs call, and ``run_day``), ``fpwarn_demo.generate_district``
(the demo district generator: a package of its own, the ``demo`` extra).
The data flows feeds → validation → warehouse → signals → alerts → dispatch → feedback, one
subpackage each. Nothing here imports Airflow.
"""
