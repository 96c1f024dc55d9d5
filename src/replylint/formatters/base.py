"""What every output format receives: one `Result` per reply, then a `Summary` at the end."""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..errors import InputError
from ..inputs import Item
from ..model import Report, Severity, Violation
from ..policy import Policy


@dataclass(frozen=True)
class Result:
    """The outcome for one reply: a report, or the error that kept it from being checked.

    `fixed` lists the violations that `--fix` repaired in the file; `report` is then the check of
    the fixed text, so its spans point into the file as it now stands.
    """

    item: Item
    report: Report | None = None
    error: InputError | None = None
    policy: Policy | None = None
    fixed: tuple[Violation, ...] = ()

    @property
    def violations(self) -> tuple[Violation, ...]:
        return self.report.violations if self.report is not None else ()


@dataclass(frozen=True)
class FormatOptions:
    color: bool = False
    quiet: bool = False
    statistics: bool = False
    err: TextIO | None = None


class Statistics:
    """Counts per rule and the most frequent matched texts, in bounded memory.

    Millions of replies can match millions of distinct texts; when the table grows past
    `MAX_TEXTS` the rarest entries are dropped, so the top of the list stays right for any
    text that is frequent overall.
    """

    MAX_TEXTS = 50_000

    def __init__(self) -> None:
        self.rules: Counter[str] = Counter()
        self.replies: Counter[str] = Counter()
        self.severity: dict[str, str] = {}
        self.texts: Counter[tuple[str, str]] = Counter()

    def add(self, violations: tuple[Violation, ...]) -> None:
        for rule in {v.rule for v in violations}:
            self.replies[rule] += 1
        for v in violations:
            self.rules[v.rule] += 1
            self.severity.setdefault(v.rule, v.severity.value)
            if v.matched.strip():
                self.texts[(v.rule, " ".join(v.matched.casefold().split()))] += 1
        if len(self.texts) > self.MAX_TEXTS:
            keep = heapq.nlargest(self.MAX_TEXTS // 2, self.texts.items(), key=lambda kv: kv[1])
            self.texts = Counter(dict(keep))

    def top_texts(self, n: int = 10) -> list[tuple[str, str, int]]:
        ranked = sorted(self.texts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
        return [(rule, text, count) for (rule, text), count in ranked]

    def ranked_rules(self) -> list[tuple[str, int]]:
        return sorted(self.rules.items(), key=lambda kv: (-kv[1], kv[0]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rules": [{"rule": rule, "severity": self.severity[rule], "violations": count,
                       "replies": self.replies[rule]} for rule, count in self.ranked_rules()],
            "top_matches": [{"rule": rule, "matched": text, "count": count}
                            for rule, text, count in self.top_texts()],
        }

    def lines(self) -> list[str]:
        """A plain-text table, for the text format and for stderr in the other formats."""
        if not self.rules:
            return ["Statistics: no violations."]
        width = max(len(r) for r in self.rules)
        out = ["Statistics:", f"  {'violations':>10}  {'replies':>7}  {'rule':<{width}}  severity"]
        for rule, count in self.ranked_rules():
            out.append(f"  {count:>10}  {self.replies[rule]:>7}  {rule:<{width}}  "
                       f"{self.severity[rule]}")
        top = self.top_texts()
        if top:
            out.append("Most frequent matches:")
            for rule, text, count in top:
                shown = text if len(text) <= 60 else text[:59] + "…"
                out.append(f"  {count:>10}  {rule:<{width}}  {shown!r}")
        return out


@dataclass
class Summary:
    """Totals over the whole run, built as results stream past."""

    replies: int = 0
    checked: int = 0
    flagged: int = 0
    input_errors: int = 0
    fixed: int = 0
    fixed_files: int = 0
    by_severity: Counter[str] = field(default_factory=Counter)
    statistics: Statistics | None = None

    def add(self, result: Result) -> None:
        self.replies += 1
        if result.report is None:
            self.input_errors += 1
        else:
            self.checked += 1
            violations = result.report.violations
            if violations:
                self.flagged += 1
            for v in violations:
                self.by_severity[v.severity.value] += 1
            if self.statistics is not None:
                self.statistics.add(violations)
        if result.fixed:
            self.fixed += len(result.fixed)
            self.fixed_files += 1

    @property
    def violations(self) -> int:
        return sum(self.by_severity.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "replies": self.replies,
            "checked": self.checked,
            "with_violations": self.flagged,
            "violations": self.violations,
            "by_severity": {s.value: self.by_severity.get(s.value, 0) for s in Severity},
            "input_errors": self.input_errors,
            "fixed": self.fixed,
        }

    def line(self) -> str:
        """`Found 3 violations (2 errors, 1 warning, 0 info) in 2 of 5 replies.` and friends."""
        if self.violations:
            e, w, i = (self.by_severity.get(s, 0) for s in ("error", "warning", "info"))
            text = (f"Found {_n(self.violations, 'violation')} ({_n(e, 'error')}, "
                    f"{_n(w, 'warning')}, {i} info) in {self.flagged} of "
                    f"{_n(self.checked, 'reply', 'replies')}.")
        elif self.checked:
            text = ("1 reply clean." if self.checked == 1
                    else f"All {self.checked} replies clean.")
        else:
            text = "No replies checked."
        if self.fixed:
            text += f" Fixed {_n(self.fixed, 'violation')} in {_n(self.fixed_files, 'file')}."
        if self.input_errors:
            text += (f" {_n(self.input_errors, 'input')} could not be checked "
                     f"(see the errors above).")
        return text


def _n(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


class Formatter:
    """An output format: `begin`, one `result` per reply in input order, then `end`."""

    streams = True
    """False for formats that write one document at the end (json, sarif)."""

    def __init__(self, out: TextIO, options: FormatOptions = FormatOptions()) -> None:
        self.out = out
        self.options = options

    def begin(self) -> None:
        pass

    def result(self, result: Result) -> None:
        raise NotImplementedError

    def end(self, summary: Summary) -> None:
        pass

    def side_statistics(self, summary: Summary) -> None:
        """Formats whose stdout is for machines print `--statistics` on stderr."""
        if self.options.statistics and summary.statistics is not None and self.options.err:
            for line in summary.statistics.lines():
                print(line, file=self.options.err)


def file_position(item: Item, v: Violation) -> tuple[int, int, int, int] | None:
    """(line, column, end_line, end_column) of a violation in the draft FILE; None for records.

    Columns are 1-based; `end_column` is exclusive (one past the last character), as in
    `Violation`.
    """
    if item.kind != "draft":
        return None
    return (item.file_line(v.line), v.column, item.file_line(v.end_line), v.end_column)


def violation_dict(item: Item, v: Violation) -> dict[str, Any]:
    """`Violation.to_dict()` plus where it is in the file, for drafts with front matter."""
    out = v.to_dict()
    pos = file_position(item, v)
    if pos is not None:
        out["file_line"], out["file_column"], out["file_end_line"], out["file_end_column"] = pos
    return out


def error_dict(error: InputError) -> dict[str, Any]:
    out: dict[str, Any] = {"message": error.reason}
    if error.line is not None:
        out["line"] = error.line
    return out


def result_dict(result: Result) -> dict[str, Any]:
    """The JSON object of one reply, shared by the json and jsonl formats."""
    item = result.item
    out: dict[str, Any] = {"source": item.source, "id": item.id, "kind": item.kind,
                           "body_line": item.body_line}
    if item.kind == "draft":
        out["body_offset"] = item.body_offset
    if result.report is None:
        assert result.error is not None
        out["error"] = error_dict(result.error)
        return out
    report = result.report
    out.update({"decision": report.decision.value, "ok": report.ok, "policy": report.policy,
                "policy_hash": report.policy_hash,
                "violations": [violation_dict(item, v) for v in report.violations],
                "suppressed": list(report.suppressed)})
    if result.fixed:
        out["fixed"] = [v.to_dict() for v in result.fixed]
    return out
