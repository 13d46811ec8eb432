"""The assistance ledger (帮扶台账, docs/assistance.md, "The assistance ledger"): a case for
each household the grid confirms at risk, its contacts and measures from the returned
帮扶台账 sheets, its deadline, statuses and closing, and what it gives the outbox.

``cases`` is the lifecycle (run in the day's alert transaction), ``ledger`` judges the
returned rows, ``model`` holds the objects both change, ``outputs`` reads them back for
assistance.csv, the township workbooks and the manifest.
"""
