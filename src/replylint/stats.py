"""An audit summary of many checked replies: what a social-care lead reviews each week.

Violations per rule, per group (brand, agent: any context field the records carry), per day (from
a date field such as `created_at`), and the most frequent matched texts, in bounded memory: a
year of replies costs no more than a week. Rendered as a terminal table, JSON, or one
self-contained HTML page with a chart of violations over time (no scripts, no external files).

Days are UTC days. The time axis is proportional to time: a day without replies is a gap,
and a range too long for one row or bar per day is shown per week, month or year, saying so.
"""

from __future__ import annotations

import heapq
import html
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from .model import Context, Violation

MAX_TEXTS = 50_000
"""Distinct matched texts kept; past it the rarest half is dropped (frequent ones survive)."""
MAX_GROUP_VALUES = 10_000
"""Distinct values kept per group field; later new values are counted under OTHER."""
OTHER = "(other)"
NONE = "(none)"
ROWS_PER_TOP = 3
"""The text report shows up to `top` x 3 periods (30 by default) in its table over time."""
BAR_CHARS = 30
"""Width of the longest bar of the text table over time."""
CHART_BARS = 120
"""The chart shows up to 120 periods (days, else weeks, else months, else years)."""
FIRST_YEAR, LAST_YEAR = 1900, 2999
"""Dates outside these years are not usable (placeholders such as 0001-01-01, typos)."""

Unit = Literal["day", "week", "month", "year"]
UNITS: tuple[Unit, ...] = ("day", "week", "month", "year")
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_EPOCH = re.compile(r"\d+(?:\.\d*)?")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_TWITTER = re.compile(
    r"(?:mon|tue|wed|thu|fri|sat|sun) +([a-z]{3}) +(\d{1,2}) +(\d{2}):(\d{2}):(\d{2}) +"
    r"([+-])(\d{2})(\d{2}) +(\d{4})",
    re.IGNORECASE,
)


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

    def merge(self, other: Tally) -> None:
        self.replies += other.replies
        self.flagged += other.flagged
        self.violations.update(other.violations)

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
        """Replies without a usable date: the field missing, or unreadable (counted apart)."""
        self.unreadable_dates = 0
        self.unreadable_example: str | None = None
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
            value = context.get(self.date_field)
            day = read_day(value)
            if day is not None:
                self.days.setdefault(day.isoformat(), Tally()).add(rules)
                return
            self.undated += 1
            if value is not None and value.strip():
                self.unreadable_dates += 1
                if self.unreadable_example is None:
                    self.unreadable_example = value if len(value) <= 40 else value[:39] + "…"

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
            "date_field": self.date_field,
            "days": [{"day": day, **self.days[day].to_dict()} for day in sorted(self.days)],
            "undated": self.undated,
            "undated_unreadable": self.unreadable_dates,
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
        if self.date_field:
            out += ["", *self._over_time_lines()]
        top = self.top_texts()
        if top:
            out += ["", "Most frequent matches:"]
            out += _table(
                ["count", "rule", "matched"],
                [[f"{count:,}", rule, _clip(text)] for rule, text, count in top],
            )
        return out

    def html(self, title: str = "replylint audit") -> str:
        """One self-contained page: the tables plus an SVG chart of violations over time."""
        data = self.to_dict()
        parts = [
            (
                f"<!doctype html><html lang=en><head><meta charset=utf-8>"
                f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            ),
            f"<h1>{html.escape(title)}</h1>",
            (
                f"<p>{data['checked']:,} replies checked, {data['with_violations']:,} with "
                f"violations ({_share(data['with_violations'], data['checked'])}), "
                f"{data['violations']:,} violations.</p>"
            ),
        ]
        if self.days:
            unit = self.unit(CHART_BARS)
            parts += [f"<h2>Violations per {unit}</h2>", self._svg(unit)]
            parts.append(f"<p class=note>{html.escape(_chart_note(unit))}</p>")
        elif self.date_field:
            parts.append("<h2>Violations over time</h2>")
        if self.date_field and self.undated:
            note = self.undated_note(example=False, shown_in="chart")
            parts.append(f"<p class=note>{html.escape(note)}</p>")
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

    # ----------------------------------------------------------------------- over time

    def unit(self, limit: int) -> Unit:
        """The finest period (day, week, month, year) that fits the dated range in `limit`."""
        days = sorted(self.days)
        first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
        for unit in UNITS:
            if _periods_between(first, last, unit) <= limit:
                return unit
        return "year"

    def periods(self, unit: Unit) -> list[tuple[date, date, Tally]]:
        """`(start, end exclusive, tally)` for every period of the range, empty ones included."""
        merged: dict[date, Tally] = {}
        for day, tally in self.days.items():
            merged.setdefault(_period_start(date.fromisoformat(day), unit), Tally()).merge(tally)
        start, last = min(merged), max(merged)
        out = []
        while start <= last:
            end = _next_period(start, unit)
            out.append((start, end, merged.get(start, Tally())))
            start = end
        return out

    def undated_note(self, example: bool = True, shown_in: str = "table") -> str:
        """How many replies had no usable date, and why; '' when all had one.

        `example` quotes the first unreadable value (for the terminal, not for pages that are
        passed around).
        """
        if not self.undated:
            return ""
        missing = self.undated - self.unreadable_dates
        field_name = f"the field {self.date_field!r}"
        if not self.days and not self.unreadable_dates:
            return f"No reply had a usable date: all {missing:,} lack {field_name}."
        reasons = []
        if missing:
            reasons.append(f"{missing:,} {'lacks' if missing == 1 else 'lack'} {field_name}")
        if self.unreadable_dates:
            shown = f" (e.g. {self.unreadable_example!r})" if example else ""
            verb = "holds" if self.unreadable_dates == 1 else "hold"
            reasons.append(f"{self.unreadable_dates:,} {verb} something else{shown}")
        if not self.days:
            return f"No reply had a usable date: {', '.join(reasons)}."
        return (
            f"{self.undated:,} of {_n(self.overall.replies, 'reply', 'replies')} had no usable "
            f"date and are left out of this {shown_in}: {', '.join(reasons)}."
        )

    def _over_time_lines(self) -> list[str]:
        if not self.days:
            return [self.undated_note()] if self.undated else []
        rows = self.top * ROWS_PER_TOP
        unit = self.unit(rows)
        periods = self.periods(unit)
        days = sorted(self.days)
        heading = f"Per {unit} (UTC; " + ("weeks start on Monday; " if unit == "week" else "")
        heading += f"{days[0]} .. {days[-1]}, {_n(len(periods), unit)}"
        if len(periods) > rows:
            heading += f"; the last {rows} shown"
            periods = periods[-rows:]
        peak = max(t.total for _, _, t in periods) or 1
        out = [heading + "):"]
        out += _table(
            [unit, "replies", "violations", ""],
            [
                [
                    _period_label(start, unit),
                    f"{t.replies:,}",
                    f"{t.total:,}",
                    "#" * round(BAR_CHARS * t.total / peak),
                ]
                for start, _, t in periods
            ],
        )
        note = self.undated_note()
        return out + ([note] if note else [])

    def _svg(self, unit: Unit) -> str:
        """Bars placed by date: x is proportional to time, so a period without replies is a gap."""
        periods = self.periods(unit)
        width, height = 720, 240
        left, right, top, bottom = 30.0, 690.0, 30.0, 200.0
        origin, end = periods[0][0], periods[-1][1]
        span = (end - origin).days

        def x(day: date) -> float:
            return left + (right - left) * (day - origin).days / span

        peak = max(t.total for _, _, t in periods) or 1
        shapes = [f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}"/>']
        for start, stop, t in periods:
            if not t.replies:
                continue
            x0, x1 = x(start), x(stop)
            gap = min(1.0, (x1 - x0) / 5)
            # at least 1 px for any violation; a 2-px grey mark for replies without any
            h = max((bottom - top) * t.total / peak, 1.0 if t.total else 2.0)
            quiet = "" if t.total else ' class="quiet"'
            title = (
                f"{_period_name(start, unit)}: {_n(t.total, 'violation')} in "
                f"{_n(t.replies, 'reply', 'replies')}"
            )
            shapes.append(
                f'<rect x="{x0:.1f}" y="{bottom - h:.1f}" width="{max(x1 - x0 - gap, 0.5):.1f}" '
                f'height="{h:.1f}"{quiet}><title>{html.escape(title)}</title></rect>'
            )
        ticks = sorted({round(k * (len(periods) - 1) / 4) for k in range(5)})
        for i in ticks:
            start, stop, _ = periods[i]
            anchor, at = "middle", (x(start) + x(stop)) / 2
            if i == 0:
                anchor, at = "start", x(start)
            elif i == len(periods) - 1:
                anchor, at = "end", x(stop)
            shapes.append(
                f'<text x="{at:.1f}" y="{bottom + 16}" text-anchor="{anchor}">'
                f"{_period_label(start, unit)}</text>"
            )
        shapes.append(f'<text x="{left}" y="{top - 10}">peak {_n(peak, "violation")}</text>')
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" '
            f'aria-label="violations per {unit}">{"".join(shapes)}</svg>'
        )


def read_day(value: str | None) -> date | None:
    """The UTC day of a date or timestamp, or None when it is not one replylint can read.

    Reads ISO 8601 (`2017-10-31`, `2017-10-31T22:10:47Z`, with an offset or without one,
    which is taken as UTC), Twitter's `Tue Oct 31 22:10:47 +0000 2017`, RFC 2822
    (`Tue, 31 Oct 2017 22:10:47 +0000`), and epoch seconds or milliseconds (`1509487847`,
    `1509487847000`: from 1e8 up to 1e11 they are seconds, from 1e11 up to 1e14 milliseconds).
    """
    if not value or not (text := value.strip()):
        return None
    try:
        moment = _read_moment(text)
    except (ValueError, OverflowError, OSError, TypeError):
        return None
    if moment is None:
        return None
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        moment = moment.date()
    return moment if FIRST_YEAR <= moment.year <= LAST_YEAR else None


def _read_moment(text: str) -> date | datetime | None:
    if _EPOCH.fullmatch(text):
        number = float(text)
        if 1e8 <= number < 1e11:
            return datetime.fromtimestamp(number, UTC)
        if 1e11 <= number < 1e14:
            return datetime.fromtimestamp(number / 1000, UTC)
        return None
    if text[:4].isdigit():
        try:
            return datetime.fromisoformat(text)
        except ValueError:  # e.g. '2017-10-31 22:10:47 UTC': the day as written
            m = _ISO_DAY.match(text)
            return date(int(m[1]), int(m[2]), int(m[3])) if m else None
    m = _TWITTER.fullmatch(text)
    if m:
        month = _MONTHS.index(m[1].lower()) + 1
        offset = timedelta(hours=int(m[7]), minutes=int(m[8]))
        tz = timezone(offset if m[6] == "+" else -offset)
        return datetime(int(m[9]), month, int(m[2]), int(m[3]), int(m[4]), int(m[5]), tzinfo=tz)
    if not any(c.isalpha() for c in text):
        return None
    return parsedate_to_datetime(text)  # RFC 2822; naive when the zone is -0000: UTC


def _period_start(day: date, unit: Unit) -> date:
    if unit == "day":
        return day
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def _next_period(start: date, unit: Unit) -> date:
    if unit == "day":
        return start + timedelta(days=1)
    if unit == "week":
        return start + timedelta(days=7)
    if unit == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return date(start.year + 1, 1, 1)


def _periods_between(first: date, last: date, unit: Unit) -> int:
    """How many periods the range from `first` to `last` (both included) touches."""
    if unit == "day":
        return (last - first).days + 1
    if unit == "week":
        return (_period_start(last, "week") - _period_start(first, "week")).days // 7 + 1
    if unit == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return last.year - first.year + 1


def _period_label(start: date, unit: Unit) -> str:
    if unit == "month":
        return start.strftime("%Y-%m")
    if unit == "year":
        return str(start.year)
    return start.isoformat()


def _period_name(start: date, unit: Unit) -> str:
    return f"week of {start.isoformat()}" if unit == "week" else _period_label(start, unit)


def _chart_note(unit: Unit) -> str:
    weeks = " (weeks start on Monday)" if unit == "week" else ""
    return (
        f"Dates in UTC; one bar per {unit}{weeks}, placed by date: a gap is a {unit} without "
        f"replies, a grey mark a {unit} with replies and no violations."
    )


def _n(count: int, word: str, plural: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (plural or word + 's')}"


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
    "svg rect{fill:#c0392b}svg rect.quiet{fill:#bbb}svg line{stroke:#999}"
    "svg text{font-size:11px;fill:#555}.note{color:#555;font-size:13px}"
)
