"""The demo generator as a package of its own: what it takes from the pipeline.

Its truth (the expected alerts) is worked out on its own, from docs/warning-rules.md,
never with the code it checks: it reads the rules' thresholds (configuration) and uses the
pipeline's file conventions and ID-number arithmetic to write correct files, nothing else.
"""

from __future__ import annotations

import ast

from tests.conftest import PROJECT_DIR

# What fpwarn_demo may import from the pipeline.
ALLOWED = {
    "pipeline.alerts.rules",  # the thresholds (configuration), not the grading
    "pipeline.feeds.inbox",  # delivery paths and markers
    "pipeline.feeds.registry",  # headers, encodings, sheets, formats
    "pipeline.validation.id_numbers",  # valid (and planted invalid) ID numbers
    # The grid (fpwarn_demo/grid.py) runs the demo's days and returns workbooks between
    # them: it calls the day as the CLI does (run_day with the settings of a HOME) and reads
    # and fills the workbook by the headers of its contract, as a grid worker would; what to
    # fill is its own seeded decision, never the lifecycle's or the ledger's judgement.
    "pipeline.steps",  # run_day, the whole daily job
    "pipeline.settings",  # load_settings of the demo's HOME
    "pipeline.dispatch.township_workbook",  # sheet names, headers, drop-down results
}


def pipeline_imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((PROJECT_DIR / "fpwarn_demo").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                named = [node.module]
            elif isinstance(node, ast.Import):
                named = [alias.name for alias in node.names]
            else:
                continue
            for module in named:
                if module == "pipeline" or module.startswith("pipeline."):
                    found.setdefault(module, set()).add(str(path.relative_to(PROJECT_DIR)))
    return found


def test_the_demo_takes_only_configuration_and_file_conventions_from_the_pipeline():
    """Neither the alert lifecycle and grading nor the signals: the truth stays independent."""
    used = pipeline_imports()
    assert set(used) <= ALLOWED, {module: used[module] for module in set(used) - ALLOWED}
