"""``python -m fpwarn_demo run``: the demo district's days, its grid returning workbooks.

    python -m fpwarn_demo run --inbox demo/inbox --home demo/home \\
        --start 2026-03-01 --end 2026-04-08 [--seed 7]

runs the daily job (``pipeline.steps.run_day``) on every date from ``--start`` to
``--end`` in order; after each run the simulated grid (``fpwarn_demo.grid``) fills in
some of that day's township workbooks and returns them to ``INBOX/feedback/``, where the
next run applies them. Generate the district first with ``python -m pipeline demo``.

    python -m fpwarn_demo linkage-quality --inbox demo/inbox --home demo/home

prints the precision and recall of the leads' linkage (``fpwarn_demo.linkage_quality``):
the planted leads of the truth file against ``linkage.lead_matches`` of the warehouse.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from fpwarn_demo.grid import run_days
from pipeline.settings import load_settings


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from error


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fpwarn_demo", description="演示区县")
    verbs = parser.add_subparsers(dest="verb", required=True)
    run = verbs.add_parser(
        "run", help="the daily job on every date, the grid returning workbooks after each run"
    )
    run.add_argument("--inbox", type=Path, required=True)
    run.add_argument("--home", type=Path, required=True)
    run.add_argument("--start", type=_date, required=True)
    run.add_argument("--end", type=_date, required=True)
    run.add_argument("--seed", type=int, default=7, help="the grid's seed (default 7)")
    quality = verbs.add_parser(
        "linkage-quality",
        help="precision and recall of the leads' linkage against the planted true matches",
    )
    quality.add_argument("--inbox", type=Path, required=True)
    quality.add_argument("--home", type=Path, required=True)
    return parser


def _logging(logs: Path) -> None:
    """As ``python -m pipeline run`` logs: every step to HOME/logs, warnings to the terminal."""
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[console, logging.FileHandler(logs / "pipeline.log", encoding="utf-8")],
        force=True,
    )
    for noisy in ("great_expectations", "py.warnings"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _linkage_quality(inbox: Path, home: Path) -> int:
    from fpwarn_demo.linkage_quality import QualityError, report

    try:
        for line in report(inbox, home):
            _say(line)
    except QualityError as error:
        sys.stderr.write(f"{error}\n")
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verb == "linkage-quality":
        return _linkage_quality(args.inbox, args.home)
    if args.end < args.start:
        parser.error("--end is before --start")
    # HOME made as the pipeline makes it (and its config.yaml checked) before logging there.
    _logging(load_settings(args.home, args.inbox).home.logs)
    dates = [args.start + timedelta(days=n) for n in range((args.end - args.start).days + 1)]
    run_days(args.inbox, args.home, dates, args.seed, say=_say)
    return 0


if __name__ == "__main__":
    sys.exit(main())
