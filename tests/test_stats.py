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
    assert "Per day (2017-10-31 .. 2017-11-01, 2 days; 1 replies without a date):" in out


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
    assert "<title>2017-11-01: 4 violations</title>" in page
    assert "<td>you should buy more $tsla</td>" in page


def test_group_values_past_the_limit_are_counted_together(monkeypatch: pytest.MonkeyPatch) -> None:
    import replylint.stats as stats

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
    assert audit.to_dict()["days"] == [] and audit.to_dict()["undated"] == 0
