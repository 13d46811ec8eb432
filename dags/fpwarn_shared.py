"""What the two DAGs share: owner, retry policy, the warehouse pool, the outbox Asset.

Not a DAG itself; the DAG processor puts this folder on ``sys.path``.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, ExceptionRetryPolicy, RetryAction, RetryRule

# The outbox of a business date: alerts, township workbooks, quarantine, manifest.
OUTBOX = Asset("fpwarn://outbox/daily")

# DuckDB lets one process write: every task that opens the warehouse takes this
# one-slot pool (declared in config/airflow/pools.json, imported at deployment).
WAREHOUSE_POOL = "fpwarn_warehouse"

# pipeline's transient faults subclass these builtins (SourceUnavailable is a
# ConnectionError, WarehouseBusy a BlockingIOError), so the DAGs need not import
# pipeline. Bad data never raises (it is quarantined or reported); a bug fails at once.
TRANSIENT_FAULTS = ExceptionRetryPolicy(
    rules=[
        RetryRule(
            exception=[ConnectionError, BlockingIOError, TimeoutError],
            action=RetryAction.RETRY,
            reason="数据库或数仓暂时不可用，稍后重试",
        )
    ],
    default=RetryAction.FAIL,
)

DEFAULT_ARGS = {
    "owner": "区乡村振兴局数据组",
    "retries": 3,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "retry_policy": TRANSIENT_FAULTS,
}
