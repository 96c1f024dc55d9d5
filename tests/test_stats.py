"""`replylint report`: the audit summary per rule, per brand/agent, per day and top matches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replylint.cli import main
from replylint.model import Context, Severity, Violation
from replylint.stats import Audit

RECORDS = [
    {
        "id": 1,
        "brand": "AcmeBank",
        "agent": "JK",
        "created_at": "2017-10-31T22:10:47Z",
        "text": "Honestly you should buy more $TSLA before earnings ^JK",
    },
    {
        "id": 2,
        "brand": "AcmeBank",
        "agent": "MS",
        "created_at": "2017-10-31T23:00:00Z",
        "text": "Sorry about the wait, Dana! Let's sort it out. ^MS",
    },
    {
        "id": 3,
        "brand": "AcmeAir",
        "agent": "MS",
        "created_at": "2017-11-01T08:00:00Z",
        "text": "We apologize for any inconvenience. ^MS",
    },
    {
        "id": 4,
        "brand": "AcmeAir",
        "created_at": "2017-11-01",
        "text": "We apologise for any inconvenience caused, you should buy some index funds",
    },
    {"id": 5, "brand": "AcmeAir", "agent": "JK", "created_at": None, "text": "All sorted! ^JK"},
]


def write(tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS) + "[1, 2]\n", encoding="utf-8")
    return path


def test_report_json_counts_per_rule_group_day_and_top_matches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["report", str(write(tmp_path)), "--format", "json", "--jobs", "1"])
    out, err = capsys.readouterr()
    assert code == 2  # the last line is not a record
    assert "expected a JSON object" in err
    data = json.loads(out)
    assert data["rules"] == [
        {"rule": "scripted-phrasing", "severity": "warning", "violations": 2, "replies": 2},
        {"rule": "trading-advice", "severity": "error", "violations": 2, "replies": 2},
        {"rule": "signature", "severity": "warning", "violations": 1, "replies": 1},
    ]
    assert (
        data["replies"],
        data["checked"],
        data["with_violations"],
        data["violations"],
        data["input_errors"],
    ) == (6, 5, 3, 5, 1)
    assert data["groups"] == {
        "brand": [
            {
                "value": "AcmeAir",
                "replies": 3,
                "with_violations": 2,
                "violations": 4,
                "by_rule": {"scripted-phrasing": 2, "signature": 1, "trading-advice": 1},
            },
            {
                "value": "AcmeBank",
                "replies": 2,
                "with_violations": 1,
                "violations": 1,
                "by_rule": {"trading-advice": 1},
            },
        ],
        "agent": [
            {
                "value": "(none)",
                "replies": 1,
                "with_violations": 1,
                "violations": 3,
                "by_rule": {"scripted-phrasing": 1, "signature": 1, "trading-advice": 1},
            },
            {
                "value": "JK",
                "replies": 2,
                "with_violations": 1,
                "violations": 1,
                "by_rule": {"trading-advice": 1},
            },
            {
                "value": "MS",
                "replies": 2,
                "with_violations": 1,
                "violations": 1,
                "by_rule": {"scripted-phrasing": 1},
            },
        ],
    }
    assert data["days"] == [
        {
            "day": "2017-10-31",
            "replies": 2,
            "with_violations": 1,
            "violations": 1,
            "by_rule": {"trading-advice": 1},
        },
        {
            "day": "2017-11-01",
            "replies": 2,
            "with_violations": 2,
            "violations": 4,
            "by_rule": {"scripted-phrasing": 2, "signature": 1, "trading-advice": 1},
        },
    ]
    assert data["undated"] == 1
    assert data["top_matches"] == [
        {"rule": "scripted-phrasing", "matched": "we apologise for any inconvenience", "count": 1},
        {"rule": "scripted-phrasing", "matched": "we apologize for any inconvenience", "count": 1},
        {"rule": "signature", "matched": "funds", "count": 1},
        {"rule": "trading-advice", "matched": "you should buy more $tsla", "count": 1},
        {"rule": "trading-advice", "matched": "you should buy some index funds", "count": 1},
    ]


def test_report_text_is_a_readable_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["report", str(write(tmp_path)), "--jobs", "1", "--top", "2"])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "Audit: 5 replies checked, 3 with violations (60.0%), 5 violations, 1 could not be checked."
    )
    assert out[2:7] == [
        "Violations per rule:",
        "  rule               severity  violations  replies  share",
        "  scripted-phrasing  warning            2        2  40.0%",
        "  trading-advice     error              2        2  40.0%",
        "  signature          warning            1        1  20.0%",
    ]
    assert "Per brand (top 2 of 2):" in out
    assert "  AcmeAir         3    66.7%           4  scripted-phrasing (2)" in out
    start = out.index("Per day (UTC; 2017-10-31 .. 2017-11-01, 2 days):")
    assert out[start + 1 : start + 5] == [
        "  day         replies  violations",
        "  2017-10-31        2           1  ########",
        "  2017-11-01        2           4  ##############################",
        (
            "1 of 5 replies had no usable date and are left out of this table: 1 lacks the field "
            "'created_at'."
        ),
    ]


def test_report_html_is_one_self_contained_page_with_a_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["report", str(write(tmp_path)), "--format", "html", "--jobs", "1"])
    page = capsys.readouterr().out
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert page.count("<rect ") == 2
    assert "<title>2017-11-01: 4 violations in 2 replies</title>" in page
    assert "1 of 5 replies had no usable date and are left out of this chart" in page
    assert "<td>you should buy more $tsla</td>" in page


def test_group_values_past_the_limit_are_counted_together(monkeypatch: pytest.MonkeyPatch) -> None:
    from replylint import stats

    monkeypatch.setattr(stats, "MAX_GROUP_VALUES", 2)
    audit = Audit(group_by=["agent"], date_field=None)
    v = Violation("promise", Severity.WARNING, "m", 0, 1, 1, 1, 1, 2, "x")
    for agent in ["A", "B", "C", "D"]:
        audit.add((v,), Context(agent=agent))
    assert [(k, t.replies, t.total) for k, t in audit.ranked_group(audit.groups["agent"])] == [
        ("(other)", 2, 2),
        ("A", 1, 1),
        ("B", 1, 1),
    ]
    assert "days" not in audit.used_groups()
    assert audit.to_dict()["days"] == [] and audit.to_dict()["undated"] == 0  # no date field


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2017-10-31", "2017-10-31"),
        ("2017-10-31T22:10:47Z", "2017-10-31"),
        ("2017-10-31T22:10:47.123456+00:00", "2017-10-31"),
        ("2017-10-31T20:10:47-05:00", "2017-11-01"),  # days are UTC days
        ("2017-10-31 22:10:47", "2017-10-31"),  # no offset: taken as UTC
        ("20171031T221047Z", "2017-10-31"),
        ("2017-10-31 22:10:47 UTC", "2017-10-31"),  # the rest unreadable: the day as written
        ("Tue Oct 31 22:10:47 +0000 2017", "2017-10-31"),  # Twitter's created_at
        ("Tue Oct 31 22:10:47 -0500 2017", "2017-11-01"),
        ("Tue, 31 Oct 2017 22:10:47 +0000", "2017-10-31"),  # RFC 2822
        ("31 Oct 2017 23:10:47 -0200", "2017-11-01"),
        ("1509487847", "2017-10-31"),  # epoch seconds
        ("1509487847.5", "2017-10-31"),
        ("1509487847000", "2017-10-31"),  # epoch milliseconds
        ("  2017-10-31  ", "2017-10-31"),
        ("soon", None),
        ("", None),
        ("2017-13-45", None),
        ("2017", None),  # a year is not a day, nor an epoch in 1970
        ("true", None),
        (None, None),
    ],
)
def test_dates_in_every_common_format_are_read(value: str | None, day: str | None) -> None:
    from replylint.stats import read_day

    parsed = read_day(value)
    assert (parsed.isoformat() if parsed else None) == day


def audit_of(dates: list[str | None], top: int = 10) -> Audit:
    """An audit of one flagged reply per date (None: a record without the field)."""
    audit = Audit(group_by=(), top=top)
    v = Violation("promise", Severity.WARNING, "m", 0, 1, 1, 1, 1, 2, "x")
    for value in dates:
        audit.add((v,), Context.from_mapping({"created_at": value} if value else {}))
    return audit


def test_twitter_dates_are_counted_per_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: Twitter's `created_at` ("Tue Oct 31 22:10:47 +0000 2017") was not read."""
    path = tmp_path / "tweets.jsonl"
    tweets = [
        {
            "id": 1,
            "text": "You should buy more $TSLA",
            "created_at": "Tue Oct 31 22:10:47 +0000 2017",
        },
        {"id": 2, "text": "All sorted!", "created_at": "Wed Nov 01 08:00:00 +0000 2017"},
    ]
    path.write_text("".join(json.dumps(t) + "\n" for t in tweets), encoding="utf-8")
    main(["report", str(path), "--format", "json", "--jobs", "1"])
    data = json.loads(capsys.readouterr().out)
    assert [(d["day"], d["replies"]) for d in data["days"]] == [
        ("2017-10-31", 1),
        ("2017-11-01", 1),
    ]
    assert data["undated"] == 0


def test_replies_without_a_usable_date_are_counted_and_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: `--date-field nosuch` gave `"days": [], "undated": 0` and said nothing."""
    path = write(tmp_path)
    main(["report", str(path), "--format", "json", "--jobs", "1", "--date-field", "nosuch"])
    data = json.loads(capsys.readouterr().out)
    assert (data["date_field"], data["days"], data["undated"]) == ("nosuch", [], 5)
    assert data["undated_unreadable"] == 0
    main(["report", str(path), "--jobs", "1", "--date-field", "nosuch"])
    out = capsys.readouterr().out.splitlines()
    assert "No reply had a usable date: all 5 lack the field 'nosuch'." in out


def test_the_text_report_says_how_many_replies_had_no_usable_date() -> None:
    audit = audit_of(["2017-10-31", "soon", None, "31/10/2017", "2017-11-01"])
    assert audit.to_dict()["undated"] == 3 and audit.to_dict()["undated_unreadable"] == 2
    lines = audit.lines()
    assert (
        "3 of 5 replies had no usable date and are left out of this table: 1 lacks the field "
        "'created_at', 2 hold something else (e.g. 'soon')."
    ) in lines


# --------------------------------------------------------------------------- time axis


def bars(page: str) -> list[tuple[float, float, str]]:
    """(x, width, title) of every bar of the chart."""
    import re

    return [
        (float(x), float(w), title)
        for x, w, title in re.findall(
            r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="[\d.]+"[^>]*>'
            r"<title>([^<]*)</title>",
            page,
        )
    ]


def test_the_chart_places_days_by_date_so_gaps_show() -> None:
    """Regression: bars were spaced by list position; a 9-day gap looked like no gap."""
    page = audit_of(["2017-10-01", "2017-10-02", "2017-10-11", "2017-10-11"]).html()
    (x1, w1, t1), (x2, _, t2), (x3, _, t3) = bars(page)
    assert [t1, t2, t3] == [
        "2017-10-01: 1 violation in 1 reply",
        "2017-10-02: 1 violation in 1 reply",
        "2017-10-11: 2 violations in 2 replies",
    ]
    day = x2 - x1
    assert day > w1 > 0
    assert x3 - x2 == pytest.approx(9 * day)
    assert "<h2>Violations per day</h2>" in page


@pytest.mark.parametrize(
    ("dates", "unit", "heading", "count"),
    [
        (["2017-01-02", "2017-01-03", "2017-07-31"], "week", "Violations per week", 2),
        (["2015-01-31", "2015-02-01", "2017-12-31"], "month", "Violations per month", 3),
    ],
)
def test_long_ranges_are_charted_per_week_or_month_and_say_so(
    dates: list[str], unit: str, heading: str, count: int
) -> None:
    page = audit_of(dates).html()
    assert f"<h2>{heading}</h2>" in page
    assert f"one bar per {unit}" in page
    assert len(bars(page)) == count


def test_the_text_table_keeps_empty_days_and_says_when_it_aggregates() -> None:
    """Regression: 40 days showed as 'the full range' while only the last 30 rows were printed."""
    from datetime import date, timedelta

    days = [(date(2017, 10, 2) + timedelta(days=i)).isoformat() for i in range(40)]
    lines = audit_of(days[:3] + days[10:]).lines()  # days 4-10 have no replies
    start = lines.index("Per week (UTC; weeks start on Monday; 2017-10-02 .. 2017-11-10, 6 weeks):")
    assert lines[start + 1 : start + 8] == [
        "  week        replies  violations",
        "  2017-10-02        3           3  #############",
        "  2017-10-09        4           4  #################",
        "  2017-10-16        7           7  ##############################",
        "  2017-10-23        7           7  ##############################",
        "  2017-10-30        7           7  ##############################",
        "  2017-11-06        5           5  #####################",
    ]


def test_the_text_table_says_when_rows_are_left_out() -> None:
    lines = audit_of(["2013-05-01", "2015-01-01", "2016-01-01", "2017-10-31"], top=1).lines()
    start = lines.index("Per year (UTC; 2013-05-01 .. 2017-10-31, 5 years; the last 3 shown):")
    assert lines[start + 1 : start + 6] == [
        "  year  replies  violations",
        "  2015        1           1  ##############################",
        "  2016        1           1  ##############################",
        "  2017        1           1  ##############################",
        "",
    ]
