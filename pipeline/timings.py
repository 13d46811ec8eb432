"""Wall time and peak memory of the daily job's stages, for the benchmark.

The steps mark their stages with ``with stage("reading"):``; nothing is recorded unless
a benchmark has started a ``Recorder``, so the marks cost nothing in a daily run. Peak
memory is the process's resident set (``VmHWM``), reset at the start of each stage
through ``/proc/self/clear_refs`` so each stage shows its own peak.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# The stages in the order of the data's story; the benchmark prints them in this order.
STAGES = (
    "reading",
    "validation",
    "warehouse",
    "signals",
    "alerts",
    "assistance",
    "dispatch",
    "report",
)
# Parts of the stages the benchmark shows beside them: record linkage (leads, in signals;
# rows that lost their ID number, in warehouse).
PARTS = ("linkage",)

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _peak_rss_bytes() -> int:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _reset_peak() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


@dataclass
class Figure:
    seconds: float = 0.0
    peak_bytes: int = 0
    # Stages run in worker processes: the highest peak of one worker.
    worker_peak_bytes: int = 0


@dataclass
class Recorder:
    figures: dict[str, Figure] = field(default_factory=dict)
    resettable: bool = True
    # The highest peak seen, kept across the per-stage resets.
    overall_peak: int = 0
    # The highest peak of one worker process (the feeds read side by side).
    worker_peak: int = 0

    def add(self, name: str, seconds: float, peak: int) -> None:
        figure = self.figures.setdefault(name, Figure())
        figure.seconds += seconds
        figure.peak_bytes = max(figure.peak_bytes, peak)
        self.overall_peak = max(self.overall_peak, peak)


_recorder: Recorder | None = None
_depth = 0


def start() -> Recorder:
    """Record the stages from now on (the benchmark's run)."""
    global _recorder
    _recorder = Recorder(resettable=_reset_peak())
    _recorder.overall_peak = _peak_rss_bytes()
    return _recorder


def stop() -> Recorder | None:
    global _recorder
    recorder, _recorder = _recorder, None
    if recorder is not None:
        recorder.overall_peak = max(recorder.overall_peak, _peak_rss_bytes())
    return recorder


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Time a stage of the daily job (a no-op unless a benchmark records)."""
    global _depth
    recorder = _recorder
    if recorder is None or _depth:
        # Not recording, or inside another stage: the outer stage counts it.
        yield
        return
    recorder.overall_peak = max(recorder.overall_peak, _peak_rss_bytes())
    if recorder.resettable:
        _reset_peak()
    _depth += 1
    started = time.perf_counter()
    try:
        yield
    finally:
        _depth -= 1
        recorder.add(name, time.perf_counter() - started, _peak_rss_bytes())


@contextmanager
def part(name: str) -> Iterator[None]:
    """Time a part of a stage (``linkage``), counted in its stage too: the benchmark shows
    it beside the stages. A no-op unless a benchmark records."""
    recorder = _recorder
    if recorder is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        recorder.figures.setdefault(name, Figure()).seconds += time.perf_counter() - started


def restart_in_worker() -> Recorder | None:
    """In a forked worker of a recording run: record this worker's stages afresh."""
    global _recorder, _depth
    if _recorder is None:
        return None
    _depth = 0
    _recorder = Recorder(resettable=_reset_peak())
    return _recorder


def merge_from_worker(figures: dict[str, Figure]) -> None:
    """A worker's stages: their seconds add up (busy time, more than the wall time when
    workers overlap); the peak is that worker process's own."""
    if _recorder is None:
        return
    for name, figure in figures.items():
        _recorder.add(name, figure.seconds, 0)
        worker = _recorder.figures[name]
        worker.worker_peak_bytes = max(worker.worker_peak_bytes, figure.peak_bytes)
        _recorder.worker_peak = max(_recorder.worker_peak, figure.peak_bytes)
