"""Human output, like ruff: `path:line:col: severity rule message`, the line, a caret underline.

Drafts are named `path:line:col` with the line of the FILE (front matter counted). Archive
records are named `path#id:line:col`, the line and column being inside the record's text.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from ..inputs import Item, fix_hint
from ..model import Violation
from ..text import LineIndex, line_text
from .base import Formatter, Result, Summary

MAX_WIDTH = 120
"""Longer source lines are cut around the span, with `…` marking what was left out."""
TAB = "    "

_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_RESET = "\x1b[0m"
_SEVERITY_COLOR = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "info": "\x1b[1;34m"}
_BOLD, _CYAN, _BLUE, _GREEN, _DIM = "\x1b[1m", "\x1b[36m", "\x1b[34m", "\x1b[32m", "\x1b[2m"


class TextFormatter(Formatter):
    def result(self, result: Result) -> None:
        item = result.item
        if result.fixed and not self.options.quiet:
            rules = ", ".join(dict.fromkeys(v.rule for v in result.fixed))
            print(f"{self._paint(item.source, _BOLD)}: fixed {len(result.fixed)} "
                  f"({rules})", file=self.out)
        if self.options.quiet or not result.violations:
            return
        text = _masked(item.text, result.violations)
        index = LineIndex(text)
        for v in result.violations:
            self._violation(item, v, text, index)

    def end(self, summary: Summary) -> None:
        if self.options.statistics and summary.statistics is not None:
            for line in summary.statistics.lines():
                print(line, file=self.out)
        print(self._paint(summary.line(), _BOLD), file=self.out)

    def _violation(self, item: Item, v: Violation, text: str, index: LineIndex) -> None:
        sev = v.severity.value
        line = item.file_line(v.line) if item.kind == "draft" else v.line
        where = (f"{item.source}:{line}:{v.column}" if item.kind == "draft"
                 else f"{item.source}#{item.id}:{v.line}:{v.column}")
        print(f"{self._paint(where, _BOLD)}: {self._paint(sev, _SEVERITY_COLOR[sev])} "
              f"{self._paint(v.rule, _CYAN)} {printable(v.message)}", file=self.out)
        if 1 <= v.line <= index.line_count:
            source_line = line_text(text, index, v.line)
            start = v.column - 1
            end = v.end_column - 1 if v.end_line == v.line else len(source_line)
            shown, underline = render_line(source_line, start, max(start, end))
            gutter = str(line)
            pad = " " * len(gutter)
            bar = self._paint("|", _BLUE)
            print(f" {self._paint(gutter, _BLUE)} {bar} {shown}", file=self.out)
            print(f" {pad} {bar} {self._paint(underline, _SEVERITY_COLOR[sev])}", file=self.out)
        for suggestion in v.suggestions:
            print(f"  {self._paint('suggestion', _GREEN)}: {printable(suggestion)}", file=self.out)
        if v.fix:
            print(f"  {self._paint('fix available', _DIM)} ({fix_hint(item)})", file=self.out)

    def _paint(self, text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if self.options.color else text


def printable(text: str) -> str:
    """One safe terminal line: line breaks shown as ⏎, control and bidi characters as �."""
    if text.isascii() and text.isprintable():
        return text
    text = text.replace("\r\n", "\n")
    return "".join("⏎" if ch in "\r\n" else _cell(ch)[0] for ch in text)


@lru_cache(maxsize=4096)
def _cell(ch: str) -> tuple[str, int]:
    """How one character is drawn and how many terminal columns it takes."""
    if ch == "\t":
        return TAB, len(TAB)
    if ch in _BIDI or unicodedata.category(ch) == "Cc":
        return "\ufffd", 1
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return ch, 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return ch, 2
    return ch, 1


def render_line(line: str, start: int, end: int, max_width: int = MAX_WIDTH) -> tuple[str, str]:
    """The line as displayed and its underline (`^~~~`) under characters `[start, end)`.

    A zero-width span gets a lone `^` at its position. Tabs, wide and combining characters are
    measured so the underline stays aligned; a line wider than `max_width` is cut around the
    span.
    """
    start = min(max(start, 0), len(line))
    end = min(max(end, start), len(line))
    if line.isascii() and line.isprintable():
        cells = None
        widths = [1] * len(line)
    else:
        cells = [_cell(ch) for ch in line]
        widths = [w for _, w in cells]
    lo, hi = 0, len(line)
    if sum(widths) > max_width:
        lo, hi = _window(widths, start, end, max_width)
    body = line[lo:hi] if cells is None else "".join(c for c, _ in cells[lo:hi])
    shown = ("…" if lo > 0 else "") + body + ("…" if hi < len(line) else "")
    lead = (1 if lo > 0 else 0) + sum(widths[lo:start]) if start >= lo else 0
    span = sum(widths[max(start, lo):min(end, hi)])
    underline = " " * lead + ("^" + "~" * (span - 1) if span > 0 else "^")
    return shown, underline


def _window(widths: list[int], start: int, end: int, max_width: int) -> tuple[int, int]:
    """Character range to show: some context before the span, the span, then what fits."""
    budget = max_width - 2
    lo = start
    context = 0
    while lo > 0 and context + widths[lo - 1] <= budget // 4:
        lo -= 1
        context += widths[lo]
    used = context
    hi = start
    while hi < len(widths) and used + widths[hi] <= budget:
        used += widths[hi]
        hi += 1
    while lo > 0 and used + widths[lo - 1] <= budget and hi == len(widths):
        lo -= 1
        used += widths[lo]
    return lo, max(hi, min(end, start + 1, len(widths)))


def _masked(text: str, violations: tuple[Violation, ...]) -> str:
    """The reply with redacted spans shown as the report shows them, never in clear."""
    redacted = [v for v in violations if v.matched != text[v.start:v.end]]
    if not redacted:
        return text
    chars = list(text)
    for v in redacted:
        same = len(v.matched) == v.end - v.start
        chars[v.start:v.end] = (list(v.matched) if same else
                                ["*" if c not in "\r\n" else c for c in text[v.start:v.end]])
    return "".join(chars)
