"""Output formats: the text snippet and underline, JSON/JSONL fields, SARIF structure, GitHub."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from replylint import Linter
from replylint.errors import InputError
from replylint.formatters import FORMATTERS, FormatOptions, Result, Statistics, Summary
from replylint.formatters.github import annotation, escape_data, escape_property
from replylint.formatters.text import printable, render_line
from replylint.inputs import Item, parse_draft
from replylint.model import Context, Severity, Violation
from replylint.policy import load_policy_text

POLICY = load_policy_text("""
policy: {name: fmt}
rules:
  - id: sorry
    type: pattern
    severity: warning
    message: "'{match}' sounds scripted"
    why: Scripted apologies sound insincere. Say it like a person.
    suggestions: ["Sorry about that, {customer}."]
    patterns: ['we apologi[sz]e']
  - id: swear
    type: pattern
    patterns: ['\\bdamn\\b']
  - id: card
    type: pattern
    severity: info
    patterns: ['\\b\\d{4} \\d{4}\\b']
""")
LINTER = Linter(POLICY)
DRAFT = parse_draft(b"---\ncustomer: Dana\n---\nHi Dana,\nwe apologize, damn.\n", "d/a.txt")
RECORD = Item("r.jsonl", "42", "oh damn", Context(), body_line=7, kind="record")
BROKEN = Item("r.jsonl", "r.jsonl", "", Context(), InputError("r.jsonl", "not valid JSON: x",
                                                              line=9), body_line=9, kind="record")


def results() -> list[Result]:
    return [Result(DRAFT, LINTER.check(DRAFT.text, DRAFT.context), policy=POLICY),
            Result(RECORD, LINTER.check(RECORD.text, RECORD.context), policy=POLICY),
            Result(BROKEN, error=BROKEN.error)]


def render(fmt: str, rs: list[Result] | None = None, **options: Any) -> str:
    out = io.StringIO()
    formatter = FORMATTERS[fmt](out, FormatOptions(**options))
    summary = Summary(statistics=Statistics() if options.get("statistics") else None)
    formatter.begin()
    for r in rs if rs is not None else results():
        summary.add(r)
        formatter.result(r)
    formatter.end(summary)
    return out.getvalue()


def test_the_table_names_every_format() -> None:
    assert list(FORMATTERS) == ["text", "json", "jsonl", "sarif", "github"]


# --------------------------------------------------------------------------- text


def test_text_output_uses_file_lines_for_drafts_and_path_hash_id_for_records() -> None:
    assert render("text") == """\
d/a.txt:5:1: warning sorry 'we apologize' sounds scripted
 5 | we apologize, damn.
   | ^~~~~~~~~~~~
  suggestion: Sorry about that, Dana.
d/a.txt:5:15: error swear swear: 'damn'
 5 | we apologize, damn.
   |               ^~~~
r.jsonl#42:1:4: error swear swear: 'damn'
 1 | oh damn
   |    ^~~~
Found 3 violations (2 errors, 1 warning, 0 info) in 2 of 2 replies. 1 input could not be \
checked (see the errors above).
"""


def test_text_quiet_prints_only_the_summary() -> None:
    assert render("text", quiet=True) == (
        "Found 3 violations (2 errors, 1 warning, 0 info) in 2 of 2 replies. 1 input could not "
        "be checked (see the errors above).\n")


def test_text_colour_only_when_asked() -> None:
    assert "\x1b[" not in render("text")
    coloured = render("text", color=True)
    assert "\x1b[1;31merror\x1b[0m" in coloured and "\x1b[36mswear\x1b[0m" in coloured


def test_text_snippet_never_shows_redacted_personal_data() -> None:
    text = "my card 4111 1111 ok"
    v = Violation("personal-data.card", Severity.ERROR, "card number", 8, 17, 1, 9, 1, 18,
                  "**** ****")
    report = LINTER.check("x")
    report = type(report)(report.decision, (v,), "p", "h")
    out = render("text", [Result(Item("a.txt", "a.txt", text, Context()), report)])
    assert "4111" not in out
    assert " 1 | my card **** **** ok\n   |         ^~~~~~~~~\n" in out


@pytest.mark.parametrize("line, start, end, shown, underline", [
    ("hello world", 6, 11, "hello world", "      ^~~~~"),
    ("hello", 5, 5, "hello", "     ^"),
    ("\tx = 1", 1, 2, "    x = 1", "    ^"),
    ("日本 ok", 3, 5, "日本 ok", "     ^~"),
    ("e\u0301 bad", 3, 6, "e\u0301 bad", "  ^~~"),
    ("a\x1b[31mb", 1, 2, "a\ufffd[31mb", " ^"),
    ("x\u202eevil", 2, 6, "x\ufffdevil", "  ^~~~"),
    ("a" * 300 + "BAD" + "b" * 300, 300, 303,
     "…" + "a" * 29 + "BAD" + "b" * 86 + "…", " " * 30 + "^~~"),
    ("BAD" + "b" * 300, 0, 3, "BAD" + "b" * 115 + "…", "^~~"),
])
def test_render_line_aligns_the_underline(line: str, start: int, end: int, shown: str,
                                          underline: str) -> None:
    assert render_line(line, start, end) == (shown, underline)


def test_printable_keeps_a_message_on_one_line() -> None:
    assert printable("a\r\nb\nc\x07") == "a⏎b⏎c\ufffd"


def test_summary_lines() -> None:
    s = Summary()
    assert s.line() == "No replies checked."
    clean = Result(RECORD, LINTER.check("fine"))
    s.add(clean)
    assert s.line() == "1 reply clean."
    s.add(clean)
    assert s.line() == "All 2 replies clean."


def test_statistics_count_rules_and_frequent_matches() -> None:
    stats = Statistics()
    for text in ("damn it", "DAMN", "we apologize", "damn damn"):
        stats.add(LINTER.check(text).violations)
    assert stats.to_dict() == {
        "rules": [{"rule": "swear", "severity": "error", "violations": 4, "replies": 3},
                  {"rule": "sorry", "severity": "warning", "violations": 1, "replies": 1}],
        "top_matches": [{"rule": "swear", "matched": "damn", "count": 4},
                        {"rule": "sorry", "matched": "we apologize", "count": 1}],
    }


def test_statistics_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Statistics, "MAX_TEXTS", 10)
    stats = Statistics()
    stats.add(LINTER.check("damn " * 3).violations)
    for i in range(50):
        stats.add(LINTER.check(f"{1000 + i} {2000 + i}").violations)
    assert len(stats.texts) <= 10
    assert stats.top_texts(1) == [("swear", "damn", 3)]
    assert stats.rules["card"] == 50


# --------------------------------------------------------------------------- json / jsonl


def test_json_is_one_document_with_file_positions_and_errors() -> None:
    doc = json.loads(render("json", statistics=True))
    assert doc["version"] == 1
    draft, record, broken = doc["results"]
    assert {k: draft[k] for k in ("source", "id", "kind", "body_line", "body_offset", "decision",
                                  "ok", "policy", "policy_hash")} == {
        "source": "d/a.txt", "id": "d/a.txt", "kind": "draft", "body_line": 4,
        "body_offset": 23, "decision": "block", "ok": False, "policy": "fmt",
        "policy_hash": POLICY.hash}
    first = draft["violations"][0]
    assert first == {
        "rule": "sorry", "severity": "warning", "message": "'we apologize' sounds scripted",
        "start": 9, "end": 21, "line": 2, "column": 1, "end_line": 2, "end_column": 13,
        "matched": "we apologize", "suggestions": ["Sorry about that, Dana."], "fix": None,
        "why": "Scripted apologies sound insincere. Say it like a person.",
        "file_line": 5, "file_column": 1, "file_end_line": 5, "file_end_column": 13}
    assert DRAFT.text[first["start"]:first["end"]] == "we apologize"
    raw = DRAFT.header + DRAFT.text
    offset = draft["body_offset"]
    assert raw[offset + first["start"]:offset + first["end"]] == "we apologize"
    assert "file_line" not in record["violations"][0]
    assert (record["kind"], record["body_line"], record["id"]) == ("record", 7, "42")
    assert broken == {"source": "r.jsonl", "id": "r.jsonl", "kind": "record", "body_line": 9,
                      "error": {"message": "not valid JSON: x", "line": 9}}
    assert doc["summary"] == {"replies": 3, "checked": 2, "with_violations": 2, "violations": 3,
                              "by_severity": {"error": 2, "warning": 1, "info": 0},
                              "input_errors": 1, "fixed": 0}
    assert doc["statistics"]["rules"][0] == {"rule": "swear", "severity": "error",
                                             "violations": 2, "replies": 2}


def test_json_with_no_results_is_still_valid() -> None:
    assert json.loads(render("json", [])) == {
        "version": 1, "results": [],
        "summary": {"replies": 0, "checked": 0, "with_violations": 0, "violations": 0,
                    "by_severity": {"error": 0, "warning": 0, "info": 0}, "input_errors": 0,
                    "fixed": 0}}


def test_jsonl_is_one_object_per_reply() -> None:
    err = io.StringIO()
    lines = render("jsonl", statistics=True, err=err).splitlines()
    objs = [json.loads(line) for line in lines]
    assert [(o["source"], o["id"], o.get("decision"), len(o.get("violations", [])))
            for o in objs] == [("d/a.txt", "d/a.txt", "block", 2), ("r.jsonl", "42", "block", 1),
                               ("r.jsonl", "r.jsonl", None, 0)]
    assert objs[2]["error"] == {"message": "not valid JSON: x", "line": 9}
    assert err.getvalue().startswith("Statistics:\n")


# --------------------------------------------------------------------------- sarif


def test_sarif_structure() -> None:
    doc = json.loads(render("sarif"))
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    (run,) = doc["runs"]
    assert set(run) == {"tool", "invocations", "originalUriBaseIds", "columnKind", "results"}
    driver = run["tool"]["driver"]
    assert driver["name"] == "replylint"
    assert [(r["id"], r["defaultConfiguration"]["level"]) for r in driver["rules"]] == [
        ("sorry", "warning"), ("swear", "error"), ("card", "note")]
    assert driver["rules"][0]["shortDescription"] == {"text": "Scripted apologies sound "
                                                              "insincere."}
    assert driver["rules"][0]["fullDescription"] == {
        "text": "Scripted apologies sound insincere. Say it like a person."}
    first, second, third = run["results"]
    assert first["ruleId"] == "sorry" and first["ruleIndex"] == 0
    assert first["level"] == "warning"
    assert first["message"] == {"text": "'we apologize' sounds scripted"}
    assert first["locations"] == [{"physicalLocation": {
        "artifactLocation": {"uri": "d/a.txt", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 5, "startColumn": 1, "endLine": 5, "endColumn": 13,
                   "charOffset": 32, "charLength": 12}}}]
    raw = DRAFT.header + DRAFT.text
    assert raw[32:44] == "we apologize"
    assert third["locations"][0]["physicalLocation"]["region"] == {"startLine": 7}
    assert third["properties"] == {"record": "42"}
    assert all(len(r["partialFingerprints"]["replylint/v1"]) == 32 for r in run["results"])
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"] == {
        "text": "r.jsonl:9: not valid JSON: x"}


def _props(names: str, required: str = "", **schemas: Any) -> dict[str, Any]:
    """A SARIF 2.1.0 object: the properties the spec allows (values checked where given)."""
    return {"type": "object", "additionalProperties": False,
            "required": required.split(),
            "properties": {n: schemas.get(n, {}) for n in names.split()}}


_TEXT = _props("text markdown id arguments properties", "text", text={"type": "string"})
_LEVEL = {"enum": ["none", "note", "warning", "error"]}
_ARTIFACT = _props("uri uriBaseId index description properties", uri={"type": "string"},
                   uriBaseId={"type": "string"}, description=_TEXT)
_REGION = _props("startLine startColumn endLine endColumn charOffset charLength byteOffset "
                 "byteLength snippet message sourceLanguage properties",
                 **{k: {"type": "integer", "minimum": 1} for k in ("startLine", "startColumn",
                                                                   "endLine", "endColumn")},
                 charOffset={"type": "integer", "minimum": 0},
                 charLength={"type": "integer", "minimum": 0})
_LOCATION = _props("id physicalLocation logicalLocations message annotations relationships "
                   "properties",
                   physicalLocation={"anyOf": [{"required": ["artifactLocation"]},
                                               {"required": ["address"]}],
                                     **_props("address artifactLocation region contextRegion "
                                              "properties", artifactLocation=_ARTIFACT,
                                              region=_REGION)})
_LOCATIONS = {"type": "array", "items": _LOCATION}
SARIF_SHAPE = _props(
    "$schema version runs inlineExternalProperties properties", "version runs",
    version={"enum": ["2.1.0"]},
    runs={"type": "array", "items": _props(
        "tool invocations originalUriBaseIds columnKind results artifacts properties "
        "automationDetails baselineGuid conversion language", "tool",
        columnKind={"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
        originalUriBaseIds={"type": "object", "additionalProperties": _ARTIFACT},
        tool=_props("driver extensions properties", "driver", driver=_props(
            "name version semanticVersion rules informationUri fullName organization "
            "properties", "name", rules={"type": "array", "items": _props(
                "id name shortDescription fullDescription help helpUri defaultConfiguration "
                "properties", "id", shortDescription=_TEXT, fullDescription=_TEXT, help=_TEXT,
                defaultConfiguration=_props("enabled level rank parameters properties",
                                            level=_LEVEL))})),
        invocations={"type": "array", "items": _props(
            "executionSuccessful toolExecutionNotifications toolConfigurationNotifications "
            "exitCode workingDirectory commandLine properties", "executionSuccessful",
            toolExecutionNotifications={"type": "array", "items": _props(
                "message level locations descriptor associatedRule exception threadId timeUtc "
                "properties", "message", message=_TEXT, level=_LEVEL, locations=_LOCATIONS)})},
        results={"type": "array", "items": _props(
            "ruleId ruleIndex rule kind level message locations partialFingerprints "
            "fingerprints properties fixes relatedLocations suppressions", "message",
            level=_LEVEL, message=_TEXT, locations=_LOCATIONS,
            ruleIndex={"type": "integer", "minimum": 0},
            partialFingerprints={"type": "object",
                                 "additionalProperties": {"type": "string"}})})})
"""The shape of the SARIF 2.1.0 schema (oasis-tcs sarif-schema-2.1.0.json) for every object this
formatter writes: property names, required properties, enums and ranges."""


def sarif(results: list[Result]) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render("sarif", results))
    jsonschema.validate(doc, SARIF_SHAPE)
    return doc


def test_sarif_locations_are_relative_to_the_working_directory_everywhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    inside = str(tmp_path / "d" / "a.txt")
    outside = str(tmp_path.parent / "elsewhere" / "b.txt")

    def broken(source: str) -> Result:
        item = Item(source, source, "", Context(), InputError(source, "empty file"))
        return Result(item, error=item.error)

    def draft(source: str) -> Result:
        item = dataclasses.replace(DRAFT, source=source, id=source)
        return Result(item, LINTER.check(item.text, item.context), policy=POLICY)

    doc = sarif([draft(inside), broken("d/empty.txt"), draft("d/../d/a b%.txt"), draft(outside),
                 broken(outside), draft("-"), broken("-")])
    (run,) = doc["runs"]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.as_uri() + "/"}}
    located = [loc["physicalLocation"]["artifactLocation"]
               for r in run["results"] + run["invocations"][0]["toolExecutionNotifications"]
               for loc in r["locations"]]
    relative = {"uri": "d/a.txt", "uriBaseId": "%SRCROOT%"}
    spaced = {"uri": "d/a%20b%25.txt", "uriBaseId": "%SRCROOT%"}
    absolute = {"uri": (tmp_path.parent / "elsewhere" / "b.txt").as_uri()}
    stdin = {"description": {"text": "standard input"}}
    assert located == [relative] * 2 + [spaced] * 2 + [absolute] * 2 + [stdin] * 2 + [
        {"uri": "d/empty.txt", "uriBaseId": "%SRCROOT%"}, absolute, stdin]


def test_sarif_documents_have_the_shape_of_the_sarif_2_1_0_schema() -> None:
    doc = sarif(results())
    assert len(doc["runs"][0]["results"]) == 3
    with pytest.raises(jsonschema.ValidationError):  # the shape check does check
        jsonschema.validate({**doc, "runs": [{**doc["runs"][0], "uriBase": {}}]}, SARIF_SHAPE)


def test_sarif_registers_sub_ids_under_their_parent() -> None:
    v = Violation("swear.strong", Severity.ERROR, "m", 0, 4, 1, 1, 1, 5, "damn")
    report = LINTER.check("x")
    report = type(report)(report.decision, (v,), "p", "h")
    doc = json.loads(render("sarif", [Result(RECORD, report, policy=POLICY)]))
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rules[-1]["id"] == "swear.strong"
    assert rules[-1]["defaultConfiguration"] == {"level": "error"}
    assert doc["runs"][0]["results"][0]["ruleIndex"] == 3


# --------------------------------------------------------------------------- github


def test_github_escaping() -> None:
    assert escape_data("50% off\r\nnow") == "50%25 off%0D%0Anow"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"
    assert annotation("notice", "m", file="x,y.txt", line=1) == "::notice file=x%2Cy.txt,line=1::m"


def test_github_annotations() -> None:
    assert render("github").splitlines() == [
        "::warning file=d/a.txt,line=5,col=1,endLine=5,endColumn=12,title=sorry::'we apologize' "
        "sounds scripted%0Asuggestion: Sorry about that, Dana.",
        "::error file=d/a.txt,line=5,col=15,endLine=5,endColumn=18,title=swear::swear: 'damn'",
        "::error file=r.jsonl,line=7,title=swear::record 42: swear: 'damn'",
        "::error file=r.jsonl,line=9,title=replylint%3A input error::r.jsonl:9: not valid JSON: x",
        "Found 3 violations (2 errors, 1 warning, 0 info) in 2 of 2 replies. 1 input could not be "
        "checked (see the errors above).",
    ]
