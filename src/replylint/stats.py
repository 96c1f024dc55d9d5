"""An audit summary of many checked replies: what a social-care lead reviews each week.

Violations per rule, per group (brand, agent: any context field the records carry), per day (from
a date field such as `created_at`), and the most frequent matched texts, in bounded memory: a
year of replies costs no more than a week. Rendered as a terminal table, JSON, or one
self-contained HTML page with a chart of violations over time (no scripts, no external files).
"""

from __future__ import annotations

import heapq
import html
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .model import Context, Violation

MAX_TEXTS = 50_000
"""Distinct matched texts kept; past it the rarest half is dropped (frequent ones survive)."""
MAX_GROUP_VALUES = 10_000
"""Distinct values kept per group field; later new values are counted under OTHER."""
OTHER = "(other)"
NONE = "(none)"
_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})")


@dataclass
class Tally:
    """Counts for one slice of the audit (everything, one brand, one day...)."""

    replies: int = 0
    flagged: int = 0
    violations: Counter[str] = field(default_factory=Counter)

    def add(self, rules: Sequence[str]) -> None:
        self.replies += 1
        if rules:
            self.flagged += 1
            self.violations.update(rules)

    @property
    def total(self) -> int:
        return sum(self.violations.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "replies": self.replies,
            "with_violations": self.flagged,
            "violations": self.total,
            "by_rule": dict(sorted(self.violations.items(), key=lambda kv: (-kv[1], kv[0]))),
        }


class Audit:
    """Accumulates checked replies; `to_dict`, `lines` and `html` render the summary."""

    def __init__(
        self,
        group_by: Iterable[str] = ("brand", "agent"),
        date_field: str | None = "created_at",
        top: int = 10,
    ) -> None:
        self.group_by = tuple(dict.fromkeys(group_by))
        self.date_field = date_field
        self.top = top
        self.overall = Tally()
        self.input_errors = 0
        self.severity: dict[str, str] = {}
        self.rule_replies: Counter[str] = Counter()
        self.groups: dict[str, dict[str, Tally]] = {name: {} for name in self.group_by}
        self.days: dict[str, Tally] = {}
        self.undated = 0
        self.texts: Counter[tuple[str, str]] = Counter()

    def add(self, violations: Sequence[Violation], context: Context | None = None) -> None:
        """One checked reply: its violations and the context (record fields) it came with."""
        context = context or Context()
        rules = [v.rule for v in violations]
        self.overall.add(rules)
        for rule in set(rules):
            self.rule_replies[rule] += 1
        for v in violations:
            self.severity.setdefault(v.rule, v.severity.value)
            matched = " ".join(v.matched.casefold().split())
            if matched:
                self.texts[(v.rule, matched)] += 1
        if len(self.texts) > MAX_TEXTS:
            keep = heapq.nlargest(MAX_TEXTS // 2, self.texts.items(), key=lambda kv: kv[1])
            self.texts = Counter(dict(keep))
        for name in self.group_by:
            value = context.get(name)
            slices = self.groups[name]
            key = value if value else NONE
            if key not in slices and len(slices) >= MAX_GROUP_VALUES:
                key = OTHER
            slices.setdefault(key, Tally()).add(rules)
        if self.date_field:
            day = _day(context.get(self.date_field))
            if day is None:
                self.undated += 1
            else:
                self.days.setdefault(day, Tally()).add(rules)

    def add_error(self) -> None:
        self.input_errors += 1

    # ----------------------------------------------------------------------- views

    def ranked_rules(self) -> list[tuple[str, int]]:
        return sorted(self.overall.violations.items(), key=lambda kv: (-kv[1], kv[0]))

    def top_texts(self) -> list[tuple[str, str, int]]:
        ranked = sorted(self.texts.items(), key=lambda kv: (-kv[1], kv[0]))[: self.top]
        return [(rule, text, count) for (rule, text), count in ranked]

    def used_groups(self) -> dict[str, dict[str, Tally]]:
        """Group fields some record actually had (a field every record lacks says nothing)."""
        return {
            name: slices
            for name, slices in self.groups.items()
            if any(key != NONE for key in slices)
        }

    def ranked_group(self, slices: dict[str, Tally]) -> list[tuple[str, Tally]]:
        return sorted(slices.items(), key=lambda kv: (-kv[1].total, -kv[1].replies, kv[0]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "replies": self.overall.replies + self.input_errors,
            "checked": self.overall.replies,
            "with_violations": self.overall.flagged,
            "violations": self.overall.total,
            "input_errors": self.input_errors,
            "rules": [
                {
                    "rule": rule,
                    "severity": self.severity[rule],
                    "violations": count,
                    "replies": self.rule_replies[rule],
                }
                for rule, count in self.ranked_rules()
            ],
            "groups": {
                name: [
                    {"value": value, **tally.to_dict()}
                    for value, tally in self.ranked_group(slices)
                ]
                for name, slices in self.used_groups().items()
            },
            "days": [{"day": day, **self.days[day].to_dict()} for day in sorted(self.days)],
            "undated": self.undated if self.date_field and self.days else 0,
            "top_matches": [
                {"rule": rule, "matched": text, "count": count}
                for rule, text, count in self.top_texts()
            ],
        }

    def lines(self) -> list[str]:
        """The terminal report: plain text tables."""
        o = self.overall
        out = [
            f"Audit: {o.replies:,} replies checked, {o.flagged:,} with violations "
            f"({_share(o.flagged, o.replies)}), {o.total:,} violations"
            + (f", {self.input_errors:,} could not be checked" if self.input_errors else "")
            + "."
        ]
        rules = self.ranked_rules()
        if rules:
            out += ["", "Violations per rule:"]
            out += _table(
                ["rule", "severity", "violations", "replies", "share"],
                [
                    [
                        rule,
                        self.severity[rule],
                        f"{count:,}",
                        f"{self.rule_replies[rule]:,}",
                        _share(self.rule_replies[rule], o.replies),
                    ]
                    for rule, count in rules
                ],
            )
        for name, slices in self.used_groups().items():
            ranked = self.ranked_group(slices)
            out += ["", f"Per {name} (top {min(self.top, len(ranked))} of {len(ranked):,}):"]
            out += _table(
                [name, "replies", "flagged", "violations", "top rule"],
                [
                    [
                        value,
                        f"{t.replies:,}",
                        _share(t.flagged, t.replies),
                        f"{t.total:,}",
                        _top_rule(t),
                    ]
                    for value, t in ranked[: self.top]
                ],
            )
        if self.days:
            days = sorted(self.days)
            out += [
                "",
                f"Per day ({days[0]} .. {days[-1]}, {len(days):,} days"
                + (f"; {self.undated:,} replies without a date" if self.undated else "")
                + "):",
            ]
            shown = days[-self.top * 3 :] if len(days) > self.top * 3 else days
            peak = max(self.days[d].total for d in shown) or 1
            out += _table(
                ["day", "replies", "violations", ""],
                [
                    [
                        d,
                        f"{self.days[d].replies:,}",
                        f"{self.days[d].total:,}",
                        "#" * round(30 * self.days[d].total / peak),
                    ]
                    for d in shown
                ],
            )
        top = self.top_texts()
        if top:
            out += ["", "Most frequent matches:"]
            out += _table(
                ["count", "rule", "matched"],
                [[f"{count:,}", rule, _clip(text)] for rule, text, count in top],
            )
        return out

    def html(self, title: str = "replylint audit") -> str:
        """One self-contained page: the tables plus an SVG chart of violations per day."""
        data = self.to_dict()
        parts = [
            f"<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
            f"<h1>{html.escape(title)}</h1>",
            f"<p>{data['checked']:,} replies checked, {data['with_violations']:,} with "
            f"violations ({_share(data['with_violations'], data['checked'])}), "
            f"{data['violations']:,} violations.</p>",
        ]
        if self.days:
            parts += ["<h2>Violations per day</h2>", self._svg()]
        parts += [
            "<h2>Violations per rule</h2>",
            _html_table(
                ["rule", "severity", "violations", "replies"],
                [
                    [r["rule"], r["severity"], f"{r['violations']:,}", f"{r['replies']:,}"]
                    for r in data["rules"]
                ],
            ),
        ]
        for name, rows in data["groups"].items():
            parts += [
                f"<h2>Per {html.escape(name)}</h2>",
                _html_table(
                    [name, "replies", "with violations", "violations"],
                    [
                        [
                            r["value"],
                            f"{r['replies']:,}",
                            f"{r['with_violations']:,}",
                            f"{r['violations']:,}",
                        ]
                        for r in rows[: self.top]
                    ],
                ),
            ]
        if data["top_matches"]:
            parts += [
                "<h2>Most frequent matches</h2>",
                _html_table(
                    ["count", "rule", "matched"],
                    [[f"{m['count']:,}", m["rule"], m["matched"]] for m in data["top_matches"]],
                ),
            ]
        parts.append("</body></html>\n")
        return "\n".join(parts)

    def _svg(self) -> str:
        days = sorted(self.days)
        totals = [self.days[d].total for d in days]
        width, height, pad = 720, 220, 30
        peak = max(totals) or 1
        step = (width - 2 * pad) / max(len(days), 1)
        bars = []
        for i, (day, total) in enumerate(zip(days, totals)):
            h = (height - 2 * pad) * total / peak
            x = pad + i * step
            bars.append(
                f'<rect x="{x:.1f}" y="{height - pad - h:.1f}" '
                f'width="{max(step - 1, 1):.1f}" height="{h:.1f}">'
                f"<title>{day}: {total:,} violations</title></rect>"
            )
        labels = (
            f'<text x="{pad}" y="{height - 8}">{days[0]}</text>'
            f'<text x="{width - pad}" y="{height - 8}" text-anchor="end">{days[-1]}</text>'
            f'<text x="{pad}" y="{pad - 10}">peak {peak:,}</text>'
        )
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" '
            f'aria-label="violations per day">{"".join(bars)}{labels}</svg>'
        )


def _day(value: str | None) -> str | None:
    if not value:
        return None
    m = _DAY.match(value.strip())
    return m.group(1) if m else None


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _top_rule(tally: Tally) -> str:
    if not tally.violations:
        return ""
    rule, count = min(tally.violations.items(), key=lambda kv: (-kv[1], kv[0]))
    return f"{rule} ({count:,})"


def _clip(text: str, width: int = 60) -> str:
    return repr(text if len(text) <= width else text[: width - 1] + "…")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]

    right = [
        bool(rows) and all(_numeric(r[i]) or not r[i] for r in rows) for i in range(len(header))
    ]

    def line(cells: list[str]) -> str:
        return (
            "  "
            + "  ".join(
                c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)
            ).rstrip()
        )

    return [line(header), *(line(r) for r in rows)]


def _numeric(cell: str) -> bool:
    return bool(cell) and cell.replace(",", "").replace(".", "").rstrip("%").isdigit()


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_CSS = (
    "body{font:14px system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "th,td{border-bottom:1px solid #ddd;padding:.25em .75em;text-align:left}"
    "svg rect{fill:#c0392b}svg text{font-size:11px;fill:#555}"
)
