"""What the database benchmarks share: fresh migrated databases, latency and
memory figures, a time budget, and the side-by-side table.

SQLite is the baseline. PostgreSQL runs when a server is named (--postgres URL,
else GIGBOT_TEST_POSTGRES_URL); each run gets a database of its own, created
on that server, migrated, and dropped afterwards. Everything stays on the
machine: SQLite in a temporary folder, PostgreSQL wherever the URL points
(127.0.0.1 here).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import make_url

from storage.database import Database
from storage.migrate import upgrade

POSTGRES_ENV = "GIGBOT_TEST_POSTGRES_URL"
SQLITE, POSTGRES = "sqlite", "postgresql"
RSS_SAMPLE_S = 0.01
PROJECT = Path(__file__).resolve().parent.parent


def machine() -> str:
    """The conditions the figures were taken under: cores and load."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    return f"{os.cpu_count()} cores, load {load:.1f}"


def conditions(args: argparse.Namespace) -> str:
    """The title's tail: seed and machine."""
    return f"seed {args.seed}; {machine()}"


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


# --- databases -------------------------------------------------------------------------


def add_database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help=f"PostgreSQL server for the comparison (default: ${POSTGRES_ENV}; "
        "a fresh database is created there and dropped afterwards)",
    )
    parser.add_argument(
        "--only", choices=[SQLITE, POSTGRES], help="run on one database only (no ratio)"
    )
    parser.add_argument(
        "--trace-memory",
        action="store_true",
        help="peak of Python allocations (tracemalloc) instead of process RSS; slower",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="measure every database in this process (for a profiler); by default each "
        "runs in a fresh process, so that memory figures do not carry over",
    )
    parser.add_argument("--figures-to", help=argparse.SUPPRESS)  # a child's JSON output


def add_mix_options(
    parser: argparse.ArgumentParser, *, queries: int, seconds: float, mix: str, runs: str
) -> None:
    """--queries (distinct queries in `mix`) and --time-limit (seconds `runs` for)."""
    parser.add_argument(
        "--queries",
        type=int,
        default=queries,
        help=f"distinct queries in {mix} (default {queries:,})",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=seconds,
        help=f"seconds {runs} for, per database (default {seconds:g})",
    )


class Bench(Protocol):
    """What a database benchmark module provides (bench/*_bench.py)."""

    QUICK: list[str]

    def add_options(self, parser: argparse.ArgumentParser) -> None: ...

    async def measure(
        self, backend: str, server: str | None, args: argparse.Namespace
    ) -> dict[str, float]: ...

    def report(self, args: argparse.Namespace, results: dict[str, dict[str, float]]) -> int: ...


def compare(name: str, bench: Bench, argv: list[str]) -> int:
    """Measure on each database — each in a fresh `python -m bench <name>` process
    unless --in-process — and report the figures side by side."""
    parser = argparse.ArgumentParser(
        prog=f"python -m bench {name}",
        description=(getattr(bench, "__doc__", "") or "").split("\n\n")[0],
    )
    bench.add_options(parser)
    args = parser.parse_args(argv)
    if args.figures_to:  # a child: one database, figures as JSON for the parent
        [(backend, server)] = backends(args)
        figures = asyncio.run(bench.measure(backend, server, args))
        Path(args.figures_to).write_text(json.dumps(figures))
        return 0
    results: dict[str, dict[str, float]] = {}
    for backend, server in backends(args):
        if args.in_process:
            results[backend] = asyncio.run(bench.measure(backend, server, args))
            continue
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "figures.json"
            child = [sys.executable, "-m", "bench", name, *argv]
            child += ["--only", backend, "--figures-to", str(out)]
            sys.stdout.flush()  # what this process printed comes before the child's lines
            done = subprocess.run(child, cwd=PROJECT, check=False)
            if done.returncode != 0 or not out.exists():
                print(f"  ({backend}: the measuring process failed, exit {done.returncode})")
                return 1
            results[backend] = json.loads(out.read_text())
    return bench.report(args, results) if results else 0


def backends(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """(backend, server URL) pairs to run, SQLite (the baseline) first."""
    server = args.postgres or os.environ.get(POSTGRES_ENV)
    chosen: list[tuple[str, str | None]] = []
    if args.only in (None, SQLITE):
        chosen.append((SQLITE, None))
    if args.only in (None, POSTGRES):
        if server:
            chosen.append((POSTGRES, server))
        else:
            print(f"  (PostgreSQL skipped: pass --postgres URL or set {POSTGRES_ENV})")
    return chosen


async def _admin_execute(server: str, sql: str) -> None:
    """One statement outside a transaction (CREATE/DROP DATABASE)."""
    import asyncpg

    url = make_url(server).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def migrated_database(backend: str, server: str | None, folder: Path) -> AsyncIterator[str]:
    """The URL of a fresh database migrated to head (storage.migrate.upgrade)."""
    if backend == SQLITE:
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        await upgrade(url)
        yield url
        return
    assert server is not None
    name = f"gigbot_bench_{uuid.uuid4().hex[:10]}"
    await _admin_execute(server, f'CREATE DATABASE "{name}"')
    try:
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
        await upgrade(url)
        yield url
    finally:
        await _admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def fresh_database(backend: str, server: str | None) -> AsyncIterator[Database]:
    """A Database on a fresh migrated database (in a temporary folder for SQLite),
    disposed of and dropped afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        async with migrated_database(backend, server, Path(tmp)) as url:
            db = Database(url)
            try:
                yield db
            finally:
                await db.dispose()


# --- figures ---------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..100)."""
    if not values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(values)))
    return values[min(rank, len(values)) - 1]


@dataclass
class Latencies:
    seconds: list[float] = field(default_factory=list)

    def add(self, took: float) -> None:
        self.seconds.append(took)

    def figures(self, prefix: str = "") -> dict[str, float]:
        """p50/p95/p99/max in milliseconds."""
        ordered = sorted(self.seconds)
        return {
            f"{prefix}p50": percentile(ordered, 50) * 1000,
            f"{prefix}p95": percentile(ordered, 95) * 1000,
            f"{prefix}p99": percentile(ordered, 99) * 1000,
            f"{prefix}max": (ordered[-1] if ordered else math.nan) * 1000,
        }


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the lifetime maximum is all there is
        return _max_rss_bytes()


def _max_rss_bytes() -> int:
    """The process's lifetime maximum RSS as getrusage tells it (Linux: in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def memory_label(trace: bool) -> str:
    """What MemoryPeak(trace) measures, as a row of the table names it."""
    return "traced peak MB" if trace else "peak RSS MB"


class CollectorPauses:
    """The garbage collector's pauses while `timing` (from entry): their total, the
    longest, and the full (generation-2) ones — a full collection walks every object
    the process holds that is not frozen, and stops the event loop meanwhile."""

    def __init__(self) -> None:
        self.timing = True
        self.total = 0.0
        self.longest = 0.0
        self.full: list[float] = []
        self._began = 0.0

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        elif self.timing:
            took = time.perf_counter() - self._began
            self.total += took
            self.longest = max(self.longest, took)
            if info["generation"] == 2:
                self.full.append(took)

    def __enter__(self) -> CollectorPauses:
        gc.callbacks.append(self._on_gc)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._on_gc)


_HWM = re.compile(rb"^VmHWM:\s+(\d+) kB", re.MULTILINE)
_lifetime_peak = 0  # the kernel's peak RSS as it stood before each reset


def _peak_rss_bytes() -> int:
    """Linux: the kernel's peak resident set (VmHWM) since the last reset."""
    with open("/proc/self/status", "rb") as status:
        found = _HWM.search(status.read())
    if found is None:
        raise OSError("no VmHWM")
    return int(found.group(1)) * 1024


def _reset_peak_rss() -> bool:
    """Start the kernel's peak-RSS count afresh (Linux 4.0+: clear_refs 5); False
    where it cannot. The peak until now is kept for process_peak_rss."""
    global _lifetime_peak
    try:
        before = _peak_rss_bytes()
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    _lifetime_peak = max(_lifetime_peak, before)
    return True


def process_peak_rss() -> int:
    """The process's peak resident set over its whole life, in bytes (MemoryPeak's
    resets of the kernel's count included)."""
    try:
        return max(_lifetime_peak, _peak_rss_bytes())
    except OSError:
        return _max_rss_bytes()


class MemoryPeak:
    """The peak memory of one measured phase, in MB.

    Default: the process's peak resident set during the phase (process-wide: it
    includes the interpreter and whatever earlier phases left allocated). On
    Linux the kernel's own peak (VmHWM), reset as the phase starts: exact, and
    nothing runs meanwhile; elsewhere sampled every 10 ms by a thread, whose
    wake-ups took the GIL from the timed code (the floor's search: ~7% of
    Gigbot's time per update). With trace=True: the peak of Python allocations made during
    the phase (tracemalloc; precise, but it slows allocation-heavy code down)."""

    def __init__(self, trace: bool) -> None:
        self.trace = trace
        self.peak = 0
        self._kernel = False
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None

    @property
    def label(self) -> str:
        return memory_label(self.trace)

    def __enter__(self) -> MemoryPeak:
        if self.trace:
            tracemalloc.start()
            tracemalloc.reset_peak()
        elif _reset_peak_rss():
            self._kernel = True
        else:
            self.peak = _rss_bytes()
            self._sampler = threading.Thread(target=self._sample, daemon=True)
            self._sampler.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_S):
            self.peak = max(self.peak, _rss_bytes())

    def __exit__(self, *exc: object) -> None:
        if self.trace:
            self.peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        elif self._kernel:
            self.peak = _peak_rss_bytes()
        else:
            self._stop.set()
            assert self._sampler is not None
            self._sampler.join()
            self.peak = max(self.peak, _rss_bytes())

    @property
    def megabytes(self) -> float:
        return self.peak / 1e6


class Budget:
    """A soft time limit: workers stop taking new work once it has passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds if seconds > 0 else math.inf
        self.hit = False

    def over(self) -> bool:
        if time.monotonic() >= self.ends:
            self.hit = True
        return self.hit


async def timed_seed(seeding: Awaitable[Any]) -> tuple[Any, float]:
    """What the seeding returns, and the seconds it took (a figure, not part of a mix)."""
    began = time.perf_counter()
    found = await seeding
    return found, time.perf_counter() - began


Step = Callable[[Any, Any], Awaitable[object]]  # (unit of work, item): one measured call
WARM_UP = 20


async def warm_up(uows: Callable[[], Any], items: Sequence[Any], step: Step) -> None:
    """The first WARM_UP items once, untimed: caches and prepared statements warmed."""
    for item in items[:WARM_UP]:
        async with uows() as uow:
            await step(uow, item)


async def timed_loop(
    uows: Callable[[], Any], items: Sequence[Any], seconds: float, step: Step
) -> Latencies:
    """One item at a time, each in a unit of work of its own, cycling through `items`
    until `seconds` have passed: the latency of each."""
    latencies = Latencies()
    budget = Budget(seconds)
    position = 0
    while not budget.over():
        item = items[position % len(items)]
        position += 1
        began = time.perf_counter()
        async with uows() as uow:
            await step(uow, item)
        latencies.add(time.perf_counter() - began)
    return latencies


def mix_figures(name: str, latencies: Latencies, prefix: str = "") -> dict[str, float]:
    """A timed mix's figures: how many ran (under `name`) and Latencies.figures(prefix)."""
    return {name: len(latencies.seconds), **latencies.figures(prefix)}


class ErrorCount(logging.Handler):
    """Counts the ERROR records a logger emits (the engine logs unexpected failures)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.first is None:
            self.first = record.getMessage()


# --- the table -------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    fmt: str = "{:,.0f}"
    ratio: bool = True  # False for counts that only need to be read, not compared


SEED_ROW = Row("seed", "bulk insert s (not timed)", "{:.1f}")
BEST_FIRST_ROW = Row("best_first", "newest best match first (want 1)", "{:.0f}", ratio=False)


def latency_rows(prefix: str = "") -> list[Row]:
    """p50/p95/p99 of Latencies.figures(prefix), indented under the row naming them."""
    return [Row(f"{prefix}p{q}", f"  p{q} ms", "{:.1f}") for q in (50, 95, 99)]


def mix_rows(name: str, label: str, prefix: str = "") -> list[Row]:
    """The rows of mix_figures(name, …, prefix): how many ran, then p50/p95/p99."""
    return [Row(name, label, "{:,.0f}", ratio=False), *latency_rows(prefix)]


def memory_row(args: argparse.Namespace) -> Row:
    """The memory figure (MemoryPeak.megabytes under the key "memory")."""
    return Row("memory", memory_label(args.trace_memory), "{:.0f}")


def best_first_everywhere(results: dict[str, dict[str, float]]) -> int:
    """The exit code: 0 when every database put the best match first."""
    return 0 if all(r.get("best_first") == 1 for r in results.values()) else 1


def print_table(title: str, results: dict[str, dict[str, float]], rows: Iterable[Row]) -> None:
    """Each backend's figures side by side; the last column is PostgreSQL / SQLite."""
    names = list(results)
    ratio = SQLITE in results and POSTGRES in results
    header = f"  {'':<26}" + "".join(f"{n:>12}" for n in names)
    header += f"{'pg/sqlite':>11}" if ratio else ""
    print(f"\n{title}")
    print(header)
    for row in rows:
        cells = [results[n].get(row.key, math.nan) for n in names]
        line = f"  {row.label:<26}" + "".join(f"{_cell(row.fmt, v):>12}" for v in cells)
        if ratio and row.ratio:
            base, other = results[SQLITE].get(row.key), results[POSTGRES].get(row.key)
            line += f"{_ratio(base, other):>11}"
        print(line)


def _cell(fmt: str, value: float) -> str:
    return (
        "—"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else fmt.format(value)
    )


def _ratio(base: float | None, other: float | None) -> str:
    if base is None or other is None or math.isnan(base) or math.isnan(other) or base == 0:
        return "—"
    return f"{other / base:.2f}×"
