"""`pattern`: regular expressions (the `regex` module: Unicode properties, fuzzy matching)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import regex

from ..draft import Draft
from ..options import option
from .base import CompileContext, Hit


@dataclass(frozen=True)
class PatternOptions:
    patterns: list[str] = option(doc="Regular expressions; a match anywhere is a violation.",
                                 nonempty=True)
    ignore_case: bool = option(True, doc="Match regardless of case.")
    normalize: bool = option(
        False, doc="Match on the normalised text (NFKC, case-folded, invisible characters "
                   "removed, look-alike letters mapped); spans still point at the original.")
    exceptions: list[str] = option(
        [], doc="Regular expressions; a hit inside a match of one of these is not reported.")


def compile_regex(pattern: str, flags: int, ctx: CompileContext,
                  path: tuple[str | int, ...]) -> "regex.Pattern[str] | None":
    """Compile one user regex, reporting a syntax error at its YAML position."""
    try:
        return regex.compile(pattern, flags | regex.VERSION1)
    except regex.error as exc:
        ctx.error(path, f"invalid regular expression: {exc}", "see the `regex` module syntax")
    except (ValueError, TypeError) as exc:  # pragma: no cover - defensive
        ctx.error(path, f"invalid regular expression: {exc}")
    return None


@dataclass(frozen=True)
class PatternCheck:
    patterns: tuple["regex.Pattern[str]", ...]
    exceptions: tuple["regex.Pattern[str]", ...]
    normalize: bool

    def find(self, draft: Draft) -> Iterator[Hit]:
        view = draft.normalized if self.normalize else None
        haystack = view.text if view is not None else draft.text
        blocked = [m.span() for ex in self.exceptions for m in ex.finditer(haystack)]
        for pattern in self.patterns:
            for m in pattern.finditer(haystack):
                start, end = m.span()
                if start == end:
                    continue
                if any(bs <= start and end <= be for bs, be in blocked):
                    continue
                values: dict[str, str] = {}
                for name in pattern.groupindex:
                    gs, ge = m.span(name)
                    if gs >= 0:
                        if view is not None:
                            gs, ge = view.original_span(gs, ge)
                        values[name] = draft.text[gs:ge]
                if view is not None:
                    start, end = view.original_span(start, end)
                yield Hit(start, end, values=values)


def compile_pattern(opts: PatternOptions, ctx: CompileContext) -> PatternCheck | None:
    flags = regex.IGNORECASE if opts.ignore_case else 0
    patterns = [compile_regex(p, flags, ctx, ("patterns", i)) for i, p in enumerate(opts.patterns)]
    exceptions = [compile_regex(p, flags, ctx, ("exceptions", i))
                  for i, p in enumerate(opts.exceptions)]
    if any(p is None for p in patterns) or any(p is None for p in exceptions):
        return None
    return PatternCheck(tuple(p for p in patterns if p is not None),
                        tuple(p for p in exceptions if p is not None), opts.normalize)
