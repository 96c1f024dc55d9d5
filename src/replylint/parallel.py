"""Check a stream of replies in worker processes: results in input order, memory bounded.

The parent reads the input and writes the output; workers only check. Work travels in chunks
(a few hundred replies), with a fixed number of chunks in flight, so a million-record archive
needs no more memory than a thousand-record one, and the output order is the input order.
Each worker compiles a policy once (or inherits it from the parent when processes fork) and
keeps it for every later chunk.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

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


def _context() -> multiprocessing.context.BaseContext:
    # Forking shares the parent's compiled policies and imported modules at no cost; elsewhere
    # (macOS, Windows) workers start fresh and compile the policy once each.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


@dataclass
class _Chunk(Generic[T]):
    items: list[tuple[T, Job | None]]
    future: "Future[list[Report]] | None"


class ProcessChecker:
    """A pool of `jobs` worker processes that checks `(key, Job | None)` pairs in order.

    `map` yields `(key, report)` for every pair, in input order; pairs without a job pass
    through with `None`, so the caller can route input errors and the like through the same
    ordered stream.
    """

    def __init__(self, jobs: int, chunk: int = CHUNK) -> None:
        if jobs < 2:
            raise ValueError("a process pool needs at least 2 jobs")
        self.jobs = jobs
        self.chunk = chunk
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "ProcessChecker":
        self._pool = ProcessPoolExecutor(self.jobs, mp_context=_context())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def map(self, pairs: Iterable[tuple[T, Job | None]]) -> Iterator[tuple[T, Report | None]]:
        if self._pool is None:
            raise RuntimeError("use ProcessChecker as a context manager")
        window: deque[_Chunk[T]] = deque()
        limit = self.jobs * CHUNKS_PER_WORKER
        items: list[tuple[T, Job | None]] = []
        for pair in pairs:
            items.append(pair)
            if len(items) >= self.chunk:
                window.append(self._submit(items))
                items = []
                while len(window) > limit:
                    yield from _drain(window.popleft())
        if items:
            window.append(self._submit(items))
        while window:
            yield from _drain(window.popleft())

    def _submit(self, items: list[tuple[T, Job | None]]) -> _Chunk[T]:
        assert self._pool is not None
        jobs = [job for _, job in items if job is not None]
        return _Chunk(items, self._pool.submit(_check_chunk, jobs) if jobs else None)


def _drain(chunk: _Chunk[T]) -> Iterator[tuple[T, Report | None]]:
    reports = iter(chunk.future.result() if chunk.future is not None else ())
    for key, job in chunk.items:
        yield key, (next(reports) if job is not None else None)
