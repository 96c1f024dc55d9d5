"""The in-process pre-send hook: check a reply right before a send function posts it.

`guard` returns the report or raises `ReplyBlocked`; `pre_send` wraps a send function (sync or
async) so that a blocked reply never reaches it. Policies are compiled once per process and
cached, so a hook costs one check per reply, not one policy compile.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

from .errors import ReplylintError, UsageError
from .linter import ContextLike, Linter, PolicySpec
from .model import Decision, Report, Severity, Violation
from .policy import Policy

F = TypeVar("F", bound=Callable[..., Any])

_CACHE_SIZE = 64
_cache: OrderedDict[Any, Linter] = OrderedDict()
_cache_lock = threading.Lock()


class ReplyBlocked(ReplylintError):
    """The reply must not be sent: `report` says why, `str(error)` in one sentence for the agent."""

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(verdict_message(report))


def verdict_message(report: Report) -> str:
    """One sentence an agent can read in a send dialog: the verdict and the first reason."""
    errors = [v for v in report.violations if v.severity is Severity.ERROR]
    warnings = [v for v in report.violations if v.severity is Severity.WARNING]
    partial = " (partial check: some rules ran out of time)" if report.incomplete else ""
    if report.decision is Decision.BLOCK and errors:
        return (f"Blocked: fix {_count(len(errors), 'problem')} before sending{partial}; "
                f"first, {_reason(errors[0])}")
    if report.decision is Decision.WARN and warnings:
        return (f"OK to send, but review {_count(len(warnings), 'warning')}{partial}; "
                f"first, {_reason(warnings[0])}")
    if report.decision is Decision.BLOCK:
        return f"Blocked{partial}."
    return f"OK to send{partial}."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _reason(v: Violation) -> str:
    message = v.message.rstrip()
    if message and message[-1] not in ".!?":
        message += "."
    return f"{v.rule} at line {v.line}, column {v.column}: {message}"


def linter_for(policy: PolicySpec | Linter = None) -> Linter:
    """The compiled linter for a policy spec, compiled on first use and cached for the process.

    Paths and pack names are cached by name (restart, or call `clear_cache()`, after editing
    the file); mappings by their content; `Policy` and `Linter` objects are used as given.
    """
    if isinstance(policy, Linter):
        return policy
    if isinstance(policy, Policy):
        return Linter(policy)
    key = _key(policy)
    with _cache_lock:
        linter = _cache.get(key)
        if linter is not None:
            _cache.move_to_end(key)
            return linter
    # Compile outside the lock: a slow compile must not stall checks with other policies.
    linter = Linter.from_policy(policy)
    with _cache_lock:
        linter = _cache.setdefault(key, linter)
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return linter


def clear_cache() -> None:
    """Forget every compiled policy (after editing a policy file in a long-running process)."""
    with _cache_lock:
        _cache.clear()


def _key(policy: PolicySpec) -> Any:
    if policy is None:
        return ("ref", "pack:default")
    if isinstance(policy, Mapping):
        return ("mapping", json.dumps(policy, sort_keys=True, default=str))
    if isinstance(policy, Path) or (isinstance(policy, str) and not policy.startswith("pack:")):
        return ("ref", str(Path(policy).resolve()))
    if isinstance(policy, str):
        return ("ref", policy)
    raise UsageError(f"policy must be a path, 'pack:NAME', a mapping, a Policy or a Linter; "
                     f"got {type(policy).__name__}")


def guard(text: str, policy: PolicySpec | Linter = None, *, context: ContextLike = None,
          deadline: float | None = None) -> Report:
    """Check a reply before it is sent: return the report, or raise `ReplyBlocked` on block.

    Warnings do not raise: show `report.violations` to the agent and send.
    """
    if not isinstance(text, str):
        raise UsageError(f"the reply text must be a str, got {type(text).__name__}")
    report = linter_for(policy).check(text, context, deadline=deadline)
    if report.decision is Decision.BLOCK:
        raise ReplyBlocked(report)
    return report


async def aguard(text: str, policy: PolicySpec | Linter = None, *,
                 context: ContextLike = None, deadline: float | None = None) -> Report:
    """`guard` for asyncio code: the check runs in a worker thread, so the loop stays free."""
    return await asyncio.to_thread(guard, text, policy, context=context, deadline=deadline)


def pre_send(policy: PolicySpec | Linter = None, *, text_arg: str = "text",
             context_arg: str | None = None, context: ContextLike = None,
             on_warn: Callable[[Report], object] | None = None) -> Callable[[F], F]:
    """Decorate a send function so each reply is checked first; a blocked one raises
    `ReplyBlocked` and the function is never called.

    `text_arg` names the parameter holding the reply; `context_arg` the one holding its context
    (a mapping or `Context`; `context` is used when it is absent or None). `on_warn` is called
    with the report of a reply that is sent despite warnings; on an `async def` send function
    it may be async too, and is awaited (a sync send function refuses an async `on_warn`, which
    nothing could await). The policy is compiled when the decorator is applied, so a broken
    policy fails at import time, not on the first reply.
    """
    linter = linter_for(policy)

    def decorate(fn: F) -> F:
        sig = inspect.signature(fn)
        for name in (text_arg, context_arg):
            if name is not None and name not in sig.parameters:
                raise UsageError(f"{fn.__qualname__} has no parameter {name!r} "
                                 f"(parameters: {', '.join(sig.parameters)})")

        def reply_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ContextLike]:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            text = bound.arguments[text_arg]
            ctx = bound.arguments.get(context_arg) if context_arg else None
            return text, (ctx if ctx is not None else context)

        if inspect.iscoroutinefunction(fn):
            async_fn = cast(Callable[..., Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                text, ctx = reply_of(args, kwargs)
                report = await aguard(text, linter, context=ctx)
                if on_warn is not None and report.decision is Decision.WARN:
                    result = on_warn(report)
                    if inspect.isawaitable(result):
                        await result
                return await async_fn(*args, **kwargs)

            return cast(F, async_wrapper)

        if on_warn is not None and _is_async_callable(on_warn):
            raise TypeError(f"on_warn is a coroutine function, but {fn.__name__} is not "
                            f"async: nothing would await it; make the send function "
                            f"`async def` or pass a plain function")

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            text, ctx = reply_of(args, kwargs)
            report = guard(text, linter, context=ctx)
            if on_warn is not None and report.decision is Decision.WARN:
                result = on_warn(report)
                if inspect.isawaitable(result):
                    if inspect.iscoroutine(result):
                        result.close()  # never started: no "never awaited" warning
                    raise TypeError(f"on_warn returned an awaitable, but {fn.__name__} is "
                                    f"not async: nothing would await it")
            return fn(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def _is_async_callable(fn: Callable[..., object]) -> bool:
    """An `async def` function, a partial of one, or an object whose `__call__` is one."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(type(fn).__call__)


__all__ = [
    "ReplyBlocked",
    "aguard",
    "clear_cache",
    "guard",
    "linter_for",
    "pre_send",
    "verdict_message",
]
