"""``python -m pipeline <verb>``: every step of the daily job from the command line."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from pipeline.paths import Home

if TYPE_CHECKING:
    from pipeline.steps import Day

log = logging.getLogger("pipeline")


class CommandError(RuntimeError):
    """The day could not be processed at all; the message is the one line for stderr."""


def _date(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from error


def setup_logging(home: Path | None, verbose: bool = False) -> None:
    """Counts, feeds, files and reasons go to the log; personal data never does.

    The log file under ``HOME/logs`` gets every step; the terminal only warnings,
    unless ``--verbose``.
    """
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    handlers: list[logging.Handler] = [console]
    if home is not None:
        layout = Home(home.resolve()).ensure()
        handlers.append(logging.FileHandler(layout.logs / "pipeline.log", encoding="utf-8"))
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    for noisy in ("great_expectations", "py.warnings"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _run(args: argparse.Namespace) -> int:
    from pipeline.report.summary import day_progress, print_summary
    from pipeline.settings import load_settings
    from pipeline.steps import run_day

    dates = [args.date]
    if args.until:
        dates = [
            args.date + timedelta(days=offset)
            for offset in range((args.until - args.date).days + 1)
        ]
    settings = load_settings(args.home, args.inbox)
    with day_progress(len(dates)) as tell:
        for business_date in dates:
            day = business_date.isoformat()
            result = run_day(settings, business_date, progress=partial(tell, day))
            statuses = {feed: info["status"] for feed, info in result.manifest["feeds"].items()}
            summary = ", ".join(
                f"{status} {sum(1 for s in statuses.values() if s == status)}"
                for status in sorted(set(statuses.values()))
            )
            print(f"{business_date}: feeds {summary}; outbox {result.outbox}")
    if args.summary:
        print_summary(result.outbox)
    return 0


def _summary(args: argparse.Namespace) -> int:
    from pipeline.report.summary import print_summary

    outbox = Home(args.home.resolve()).outbox(args.date)
    if not (outbox / "manifest.json").is_file():
        raise CommandError(f"{args.date} 尚未运行：{outbox} 中没有 manifest.json")
    print_summary(outbox)
    return 0


def _day(args: argparse.Namespace) -> Day:
    from pipeline import steps

    return steps.open_day(args.date, args.inbox, args.home)


def _ingest(args: argparse.Namespace) -> int:
    from pipeline import steps

    print(steps.ingest(_day(args), args.feed))
    return 0


def _load(args: argparse.Namespace) -> int:
    from pipeline import steps

    day = _day(args)
    steps.load_warehouse(day)
    steps.raise_alerts(day)
    result = steps.publish(day)
    raised = result.manifest.get("alerts", {}).get("raised", 0)
    print(f"{args.date}: warehouse loaded, {raised} alerts raised; outbox {result.outbox}")
    return 0


def _feedback(args: argparse.Namespace) -> int:
    from pipeline import steps

    day = _day(args)
    steps.raise_alerts(day)
    result = steps.publish(day)
    feedback = result.manifest.get("feedback", {})
    for file, status in sorted(feedback.get("files", {}).items()):
        print(f"{file}: {status}")
    verified = result.manifest.get("alerts", {}).get("verified", 0)
    print(
        f"{args.date}: {verified} alerts closed by verification, "
        f"{feedback.get('rows_rejected', 0)} returned rows changed nothing "
        f"(see {result.outbox / 'feedback_rejections.csv'})"
    )
    return 0


def _whatif(args: argparse.Namespace) -> int:
    from pipeline.alerts.rules import load_rules
    from pipeline.settings import load_settings
    from pipeline.whatif.compare import WhatIfError, what_if
    from pipeline.whatif.output import terminal_lines, write_outputs

    if not args.rules.is_file():
        raise CommandError(f"候选规则文件 {args.rules} 不存在")
    settings = load_settings(args.home, args.inbox)
    try:
        result = what_if(settings, args.rules, args.date)
    except WhatIfError as error:
        raise CommandError(str(error)) from error
    rules = load_rules()
    folder = args.out or settings.home.root / "whatif"
    written = write_outputs(
        result,
        folder,
        rules.precision.window_days,
        rules.precision.min_verified,
        rules.precision.floor,
    )
    for line in terminal_lines(result):
        print(line)
    for path in written:
        print(path)
    return 0


def _demo(args: argparse.Namespace) -> int:
    # The generator is an extra (fpwarn_demo), not part of the production package.
    try:
        from fpwarn_demo import generate_district
    except ImportError as error:
        if error.name != "fpwarn_demo":
            raise
        raise CommandError(
            "未安装演示区县生成器 fpwarn_demo：请安装 demo 扩展，pip install -e '.[demo]'"
        ) from error

    summary = generate_district(
        args.inbox,
        households=args.households,
        start=args.start,
        end=args.end,
        seed=args.seed,
        claims_url=args.claims_url,
    )
    if args.home is not None:
        home = Home(args.home.resolve()).ensure()
        settings: dict[str, object] = {}
        if home.config_file.is_file():
            settings = yaml.safe_load(home.config_file.read_text(encoding="utf-8")) or {}
        settings["med_claims_url"] = summary.claims_url
        home.config_file.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    print(
        f"demo district: {summary.households} households, {summary.members} members, "
        f"{summary.townships} townships; inbox {summary.inbox}; claims {summary.claims_url}"
    )
    return 0


def _benchmark(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from pipeline.benchmark import report, run_benchmark

    if args.households < 100 or args.runs < 1:
        raise CommandError("--households must be at least 100 and --runs at least 1")
    figures = run_benchmark(
        args.households,
        args.workdir.resolve(),
        args.runs,
        args.date,
        args.claims_url,
        say=partial(print, flush=True),
    )
    print(report(args.households, figures))
    if args.json:
        args.json.write_text(
            json.dumps([asdict(run) for run in figures], indent=1) + "\n", encoding="utf-8"
        )
    return 0


def _feeds(args: argparse.Namespace) -> int:
    from pipeline.feeds.registry import load_registry

    for spec in load_registry().values():
        print(
            f"{spec.feed:18} {spec.kind:9} {spec.format:5} {spec.encoding or spec.sheet or '':10} {spec.title}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline", description="防止返贫动态监测预警流水线"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    verbs = parser.add_subparsers(dest="verb", required=True)

    def day_verb(name: str, help_text: str, handler: object) -> argparse.ArgumentParser:
        """A verb that works on one business date of an inbox and a HOME."""
        verb = verbs.add_parser(name, help=help_text)
        verb.add_argument("--inbox", type=Path, required=True)
        verb.add_argument("--home", type=Path, required=True)
        verb.add_argument("--date", type=_date, required=True)
        verb.set_defaults(handler=handler)
        return verb

    run = day_verb("run", "the daily job for one business date (or a range with --until)", _run)
    run.add_argument("--until", type=_date, help="run every date from --date to this one, in order")
    run.add_argument(
        "--summary", action="store_true", help="print the last day's summary tables at the end"
    )
    summary = verbs.add_parser("summary", help="the day's summary tables, from its outbox")
    summary.add_argument("--home", type=Path, required=True)
    summary.add_argument("--date", type=_date, required=True)
    summary.set_defaults(handler=_summary)
    ingest = day_verb("ingest", "ingest one feed for a date (the per-feed step)", _ingest)
    ingest.add_argument("--feed", required=True)
    day_verb(
        "load",
        "load what the feed steps staged for a date, raise the alerts, write the outbox",
        _load,
    )
    day_verb(
        "feedback",
        "apply the township workbooks returned to INBOX/feedback/ now (the daily run does it too)",
        _feedback,
    )

    demo = verbs.add_parser("demo", help="generate a demo district's inbox and claims database")
    demo.add_argument("--inbox", type=Path, required=True)
    demo.add_argument("--households", type=int, default=3000)
    demo.add_argument("--start", type=_date, required=True)
    demo.add_argument("--end", type=_date, required=True)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument(
        "--claims-url", help="SQLAlchemy URL for the claims view (default: SQLite in the inbox)"
    )
    demo.add_argument(
        "--home", type=Path, help="also point this HOME's config.yaml at the claims database"
    )
    demo.set_defaults(handler=_demo)

    benchmark = verbs.add_parser(
        "benchmark",
        help="time the daily job at a size: every stage, a rerun, and the floor of reading alone",
    )
    benchmark.add_argument("--households", type=int, default=100_000)
    benchmark.add_argument("--runs", type=int, default=3, help="runs to take the median of")
    benchmark.add_argument(
        "--workdir",
        type=Path,
        default=Path("benchmark"),
        help="where the generated district is kept (reused by later runs of the same size)",
    )
    benchmark.add_argument("--date", type=_date, default=date(2026, 3, 1))
    benchmark.add_argument(
        "--claims-url", help="read the claims view from this database instead of the generated one"
    )
    benchmark.add_argument("--json", type=Path, help="also write every run's figures here")
    benchmark.set_defaults(handler=_benchmark)

    whatif = day_verb(
        "whatif",
        "what candidate rules would raise on a date, beside the rules in force (changes nothing)",
        _whatif,
    )
    whatif.add_argument("--rules", type=Path, required=True, help="the candidate rules file")
    whatif.add_argument(
        "--out", type=Path, help="folder for the page and the workbook (default: HOME/whatif)"
    )

    feeds = verbs.add_parser("feeds", help="list the feed registry (and check it loads)")
    feeds.set_defaults(handler=_feeds)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pipeline.alerts.rules import RulesConfigError
    from pipeline.feeds.registry import FeedConfigError
    from pipeline.paths import HomeUnusable
    from pipeline.settings import SettingsError
    from pipeline.steps import StepError

    home = getattr(args, "home", None)
    try:
        setup_logging(home, args.verbose)  # makes HOME's folders: a HOME that is a file
        return int(args.handler(args))
    except (
        CommandError,
        FeedConfigError,
        RulesConfigError,
        SettingsError,
        HomeUnusable,
        StepError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(
            f"error: {type(error).__name__}: {error.strerror or error} ({error.filename or ''})",
            file=sys.stderr,
        )
        return 2
    except Exception as error:
        from pipeline.warehouse.ledger import WarehouseCorrupt, damaged_warehouse

        # A damaged warehouse, found on opening it or on reading a block of it later.
        damaged = error if isinstance(error, WarehouseCorrupt) else None
        if damaged is None and home is not None:
            damaged = damaged_warehouse(error, Home(home.resolve()).warehouse)
        if damaged is not None:
            print(f"error: {damaged}", file=sys.stderr)
            return 2
        # The message may quote a value from the data: stderr and the log get the type only.
        log.error(
            "run failed: %s\n%s",
            type(error).__name__,
            "".join(traceback.format_tb(error.__traceback__)),
        )
        print(
            f"error: 处理失败（{type(error).__name__}），详见 HOME/logs/pipeline.log",
            file=sys.stderr,
        )
        return 2
