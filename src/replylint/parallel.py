"""Check a stream of replies in worker processes: results in input order, memory bounded.

The parent reads the input and writes the output; workers only check. Work travels in chunks
(a few hundred replies), with a fixed number of chunks in flight, so a million-record archive
needs no more memory than a thousand-record one, and the output order is the input order.
Each worker compiles a policy once (or inherits it from the parent when processes fork) and
keeps it for every later chunk.

The number of workers is bounded twice: never more than twice the CPUs this process may use
(`max_jobs`), and never more than the chunks of work the input has, so a small input never
pays for processes it cannot use.

Workers never outlive the parent: each asks the kernel for SIGTERM when its parent dies
(Linux `prctl(PR_SET_PDEATHSIG)`; elsewhere a thread watches `os.getppid()`), and while the
pool runs, SIGTERM to the parent terminates the workers before the parent dies of it.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from types import FrameType
from typing import Generic, Self, TextIO, TypeVar

from .config import PolicyRef, Selection
from .linter import Linter
from .model import Context, Report

T = TypeVar("T")

CHUNK = 256
"""Replies per message to a worker: large enough to amortise the hand-over, small enough to
keep the first results (and the progress display) coming quickly."""
CHUNKS_PER_WORKER = 4
"""Chunks in flight per worker: enough that no worker waits for the parent, and a bound on
memory (jobs x 4 x 256 replies at most, whatever the input size)."""


@dataclass(frozen=True)
class LinterSpec:
    """How a worker builds the parent's linter: the policy reference, selection and redaction."""

    ref: PolicyRef
    selection: Selection
    redact: bool

    def build(self) -> Linter:
        return Linter(self.selection.apply(self.ref.load()), redact=self.redact)


@dataclass(frozen=True)
class Job:
    """One reply to check: the text, its context, and which linter checks it."""

    spec: LinterSpec
    text: str
    context: Context


_LINTERS: dict[LinterSpec, Linter] = {}


def seed(spec: LinterSpec, linter: Linter) -> None:
    """Offer a linter the parent compiled already; forked workers then start with it."""
    _LINTERS.setdefault(spec, linter)


def _linter(spec: LinterSpec) -> Linter:
    linter = _LINTERS.get(spec)
    if linter is None:
        linter = _LINTERS[spec] = spec.build()
    return linter


def _check_chunk(jobs: list[Job]) -> list[Report]:
    return [_linter(job.spec).check(job.text, job.context) for job in jobs]


def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's total)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def max_jobs() -> int:
    """The most worker processes replylint starts: twice the CPUs this process may use.

    Checking is pure Python and CPU-bound, so workers beyond the CPU count add memory (about
    30 MB each) and no speed; twice the count leaves room for deliberate oversubscription while
    scaling with the machine, where a fixed cap would be too low for a large server or too high
    for a small VM. `--jobs 9999` once forked ~1,000 processes and exhausted the memory.
    """
    return 2 * cpu_count()


def clamp_jobs(requested: int, warn: TextIO | None = None) -> int:
    """The worker processes for `--jobs requested` (0 means auto: the CPU count).

    A request above `max_jobs()` is lowered to it, with a one-line warning on `warn`.
    """
    if requested <= 0:
        return cpu_count()
    limit = max_jobs()
    if requested <= limit:
        return requested
    if warn is not None:
        print(
            f"replylint: warning: --jobs {requested} is more than twice the {cpu_count()} CPUs "
            f"this process may use; using {limit} worker processes",
            file=warn,
        )
    return limit


PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal a process receives when the thread that forked it exits."""
WATCHDOG_SECONDS = 1.0
"""How often a worker without PR_SET_PDEATHSIG checks that its parent is still there."""
_orphan_guard = "prctl" if sys.platform.startswith("linux") else "watchdog"
"""How workers notice the parent died: "prctl", "watchdog", or "off" (tests only)."""


def _die_with_parent(parent: int, guard: str) -> None:
    """Worker initializer: exit when `parent` dies; leave Ctrl-C and SIGTERM to the parent.

    The parent handles SIGINT (it shuts the pool down in order) and, forked, its SIGTERM
    handler would otherwise run in the worker too.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if guard == "prctl" and not _set_parent_death_signal(signal.SIGTERM):
        guard = "watchdog"
    if guard == "watchdog":
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # it died before the guard was in place
        os._exit(1)


def _set_parent_death_signal(signum: int) -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)) == 0
    except (OSError, AttributeError):  # no libc prctl (not Linux)
        return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCHDOG_SECONDS)
    os._exit(1)


def _context() -> multiprocessing.context.BaseContext:
    # Forking shares the parent's compiled policies and imported modules at no cost; elsewhere
    # (macOS, Windows) workers start fresh and compile the policy once each.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


@dataclass
class _Chunk(Generic[T]):
    items: list[tuple[T, Job | None]]
    future: Future[list[Report]] | None


class ProcessChecker:
    """A pool of up to `jobs` worker processes that checks `(key, Job | None)` pairs in order.

    `map` yields `(key, report)` for every pair, in input order; pairs without a job pass
    through with `None`, so the caller can route input errors and the like through the same
    ordered stream. `jobs` is lowered to `max_jobs()`; the workers start when the first
    `jobs` chunks have been read (or the input ended), and only as many as there are chunks.
    """

    def __init__(self, jobs: int, chunk: int = CHUNK) -> None:
        if jobs < 2:
            raise ValueError("a process pool needs at least 2 jobs")
        self.jobs = min(jobs, max_jobs())
        self.chunk = chunk
        self.workers = 0
        """Worker processes started (0 until `map` has read enough input to know)."""
        self._entered = False
        self._pool: ProcessPoolExecutor | None = None
        self._sigterm: _SigtermGuard | None = None

    def __enter__(self) -> Self:
        self._entered = True
        return self

    def __exit__(self, *exc: object) -> None:
        self._entered = False
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._sigterm is not None:
            self._sigterm.release()
            self._sigterm = None

    def map(self, pairs: Iterable[tuple[T, Job | None]]) -> Iterator[tuple[T, Report | None]]:
        if not self._entered:
            raise RuntimeError("use ProcessChecker as a context manager")
        chunks = _chunks(pairs, self.chunk)
        # Forked workers all start at the first submission (forking later, while the pool's
        # manager thread runs, is unsafe), so read ahead to learn how many can be kept busy.
        ahead = list(itertools.islice(chunks, self.jobs))
        if not ahead:
            return
        self._start(max(1, sum(any(job is not None for _, job in items) for items in ahead)))
        window: deque[_Chunk[T]] = deque()
        limit = self.workers * CHUNKS_PER_WORKER
        for items in itertools.chain(ahead, chunks):
            window.append(self._submit(items))
            while len(window) > limit:
                yield from _drain(window.popleft())
        while window:
            yield from _drain(window.popleft())

    def _start(self, workers: int) -> None:
        self.workers = workers
        # PR_SET_PDEATHSIG fires when the forking *thread* exits: this one, which keeps the
        # pool until __exit__ (forked workers start in the thread of the first submission).
        self._pool = ProcessPoolExecutor(
            workers,
            mp_context=_context(),
            initializer=_die_with_parent,
            initargs=(os.getpid(), _orphan_guard),
        )
        self._sigterm = _SigtermGuard.hold(self._pool)

    def _submit(self, items: list[tuple[T, Job | None]]) -> _Chunk[T]:
        assert self._pool is not None
        jobs = [job for _, job in items if job is not None]
        return _Chunk(items, self._pool.submit(_check_chunk, jobs) if jobs else None)


class _SigtermGuard:
    """While a pool runs, SIGTERM to this process terminates the workers, then this process.

    Installed only where SIGTERM would kill the process outright (the default action, in the
    main thread), so an application's own SIGTERM handling is left alone; the process still
    dies of the signal, with the exit status a supervisor expects.
    """

    def __init__(self, pool: ProcessPoolExecutor) -> None:
        self.pool = pool
        self.owner = os.getpid()

    @classmethod
    def hold(cls, pool: ProcessPoolExecutor) -> _SigtermGuard | None:
        if threading.current_thread() is not threading.main_thread():
            return None
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return None
        guard = cls(pool)
        signal.signal(signal.SIGTERM, guard.terminate)
        return guard

    def terminate(self, signum: int, frame: FrameType | None) -> None:
        signal.signal(signum, signal.SIG_DFL)
        if os.getpid() == self.owner:  # not in a worker forked before it reset the handler
            # The executor keeps its processes in a private dict; list() copies it at once.
            for process in list((getattr(self.pool, "_processes", None) or {}).values()):
                process.terminate()
        signal.raise_signal(signum)

    def release(self) -> None:
        if signal.getsignal(signal.SIGTERM) == self.terminate:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _chunks(pairs: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(pairs)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _drain(chunk: _Chunk[T]) -> Iterator[tuple[T, Report | None]]:
    reports = iter(chunk.future.result() if chunk.future is not None else ())
    for key, job in chunk.items:
        yield key, (next(reports) if job is not None else None)
