"""The `replylint` command, run in-process: exit codes, formats, context, fixes, bad inputs."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import regex

import replylint
import replylint.cli as cli
import replylint.config as config
from replylint.cli import main
from replylint.linter import ContextLike
from replylint.model import Edit, Report

POLICY = """
policy: {name: cli-test}
rules:
  - id: sorry
    type: pattern
    severity: warning
    message: "'{match}' sounds scripted"
    why: Scripted apologies sound insincere.
    suggestions: ["Sorry about that, {customer}."]
    patterns: ['we apologi[sz]e']
    examples: {fail: ["We apologise."], pass: ["Sorry!"]}
  - id: swear
    type: pattern
    severity: error
    suppressible: false
    patterns: ['\\bdamn\\b']
    examples: {fail: ["damn"], pass: ["dam the river"]}
  - id: refund
    type: pattern
    severity: info
    patterns: ['\\brefund\\b']
"""


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with `policy.yaml` and no config file of its own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("REPLYLINT_DEBUG", raising=False)
    (tmp_path / "policy.yaml").write_text(POLICY)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def write(path: Path, text: str | bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def test_version_as_a_module() -> None:
    out = subprocess.run([sys.executable, "-m", "replylint", "--version"], capture_output=True,
                         text=True, check=False)
    assert (out.returncode, out.stdout, out.stderr) == (0, f"replylint {replylint.__version__}\n",
                                                        "")


# --------------------------------------------------------------------------- exit codes


@pytest.mark.parametrize("text, options, code, summary", [
    ("Sorry about that! ^MS", [], 0, "1 reply clean."),
    ("Please, no refund talk.", [], 0,
     "Found 1 violation (0 errors, 0 warnings, 1 info) in 1 of 1 reply."),
    ("We apologize.", [], 0, "Found 1 violation (0 errors, 1 warning, 0 info) in 1 of 1 reply."),
    ("We apologize.", ["--fail-on", "warning"], 1,
     "Found 1 violation (0 errors, 1 warning, 0 info) in 1 of 1 reply."),
    ("Oh damn.", [], 1, "Found 1 violation (1 error, 0 warnings, 0 info) in 1 of 1 reply."),
    ("Oh damn.", ["--exit-zero"], 0,
     "Found 1 violation (1 error, 0 warnings, 0 info) in 1 of 1 reply."),
])
def test_exit_codes(work: Path, capsys: pytest.CaptureFixture[str], text: str,
                    options: list[str], code: int, summary: str) -> None:
    path = write(work / "a.txt", text)
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", path, *options)
    assert (rc, out.splitlines()[-1], err) == (code, summary, "")


def test_input_errors_exit_2_even_with_exit_zero_and_the_rest_is_checked(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "d" / "a.txt", "Oh damn.")
    write(work / "d" / "b.txt", "")
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--exit-zero", "d")
    assert rc == 2
    assert err == "d/b.txt: empty file\n"
    assert out.startswith("d/a.txt:1:4: error swear swear: 'damn'\n")
    assert out.splitlines()[-1] == ("Found 1 violation (1 error, 0 warnings, 0 info) in 1 of "
                                    "1 reply. 1 input could not be checked (see the errors "
                                    "above).")


@pytest.mark.parametrize("args, message", [
    (["check"], "the following arguments are required: PATH"),
    (["check", "--format", "xml", "a.txt"], "argument --format: invalid choice: 'xml'"),
    (["check", "--fail-on", "info", "a.txt"], "argument --fail-on: invalid choice: 'info'"),
    (["nonsense"], "argument COMMAND: invalid choice: 'nonsense'"),
])
def test_usage_errors_exit_2(work: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                             message: str) -> None:
    rc, out, err = run(capsys, *args)
    assert rc == 2 and out == ""
    assert message in err


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys)
    assert rc == 2 and "usage: replylint" in err


def test_policy_errors_are_one_line_each_and_exit_2(work: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "bad.yaml", "rules:\n  - id: Bad_Id\n    type: pattern\n  - id: x\n"
                             "    type: nope\n")
    write(work / "a.txt", "hello")
    rc, out, err = run(capsys, "check", "--policy", "bad.yaml", "a.txt")
    assert (rc, out) == (2, "")
    assert err.splitlines() == [
        "bad.yaml:2:9: rules[0].id: rule id must be kebab-case (sub-ids after a dot), found "
        "'Bad_Id' (e.g. trading-advice or trading-advice.price-target)",
        "bad.yaml:5:11: rules[1].type: unknown rule type 'nope' (allowed: phrase, pattern, "
        "tokens, require, profanity, personal-data, length)",
    ]


def test_unknown_select_is_a_usage_error_listing_known_rules(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "a.txt", "hello")
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--select", "sory", "a.txt")
    assert (rc, out) == (2, "")
    assert err == ("replylint: error: --select: unknown rule 'sory' in policy 'cli-test'; "
                   "known rules: sorry, swear, refund\n")


def test_internal_errors_are_one_line_unless_debugging(
        work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    write(work / "a.txt", "hello")

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "iter_items", boom)
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "a.txt")
    assert (rc, err) == (2, "replylint: internal error: RuntimeError: boom\n")
    monkeypatch.setenv("REPLYLINT_DEBUG", "1")
    assert main(["check", "--policy", "policy.yaml", "a.txt"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and err.endswith(
        "replylint: internal error: RuntimeError: boom\n")


# --------------------------------------------------------------------------- bad inputs

LIMIT_LINE = b"a" * 1_000_001


@pytest.mark.parametrize("name, content, message", [
    ("empty.txt", b"", "empty.txt: empty file"),
    ("fm.md", b"---\nagent: MS\n---\n", "fm.md:4: empty reply after front matter"),
    ("bin.txt", b"GIF89a\x00\x01", "bin.txt: binary file (contains NUL bytes), not a reply"),
    ("latin1.txt", "Merci, à bientôt".encode("latin-1"),
     "latin1.txt:1: not UTF-8: invalid byte 0xe0 at byte offset 7"),
    ("long.txt", b"hi\n" + LIMIT_LINE, "long.txt:2: line is longer than the 1,000,000-character "
                                       "limit"),
    ("huge.txt", b"a" * (10 * 1024 * 1024),
     "huge.txt: file is larger than the 10 MB limit (10,485,760 bytes)"),
    ("nocol.csv", b"id,body\n1,hello\n",
     "nocol.csv:1: no 'text' column (columns: id, body); use --text-field"),
    ("fm2.md", b"---\nreplylint: {disable: [sorry]\n---\nhi\n",
     "fm2.md:3: front matter: YAML syntax error: expected ',' or '}', but got '<stream end>'"),
])
def test_each_bad_input_is_one_line_and_the_batch_goes_on(
        work: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes,
        message: str) -> None:
    write(work / name, content)
    write(work / "ok.txt", "Oh damn.")
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", name, "ok.txt", "missing.txt")
    assert rc == 2
    assert err.splitlines() == [message, "missing.txt: no such file or directory"]
    assert "ok.txt:1:4: error swear swear: 'damn'" in out


def test_jsonl_bad_line_is_reported_and_the_rest_is_checked(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "r.jsonl", '{"id": "a", "text": "oh damn"}\n{"id": "b", "text": \n'
                            '{"id": "c", "body": "x"}\n{"id": "d", "text": "we apologize"}\n')
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--format", "jsonl",
                       "r.jsonl")
    assert rc == 2
    assert err.splitlines() == [
        "r.jsonl:2: not valid JSON: Expecting value (column 21)",
        "r.jsonl:3 (record c): no 'text' field (fields: id, body); use --text-field"]
    objs = [json.loads(line) for line in out.splitlines()]
    assert [(o["id"], o.get("decision"), o.get("error")) for o in objs] == [
        ("a", "block", None),
        ("line 2", None, {"message": "not valid JSON: Expecting value (column 21)", "line": 2}),
        ("c", None, {"message": "no 'text' field (fields: id, body); use --text-field",
                     "line": 3}),
        ("d", "warn", None),
    ]


def test_unreadable_records_are_records_with_their_own_id_in_jsonl_output(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "r.csv", "id,text\n1,oh damn\n2,a,b\n3\n,x,y\n,fine\n")
    write(work / "r.jsonl", '[1, 2]\n{"text": "fine"}\n{"text": 5}\n')
    write(work / "empty.csv", "")
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--format", "jsonl",
                       "r.csv", "r.jsonl", "empty.csv")
    assert rc == 2
    assert err.splitlines() == [
        "r.csv:3 (record 2): expected 2 columns, found 3",
        "r.csv:4 (record 3): expected 2 columns, found 1",
        "r.csv:5: expected 2 columns, found 3",
        "r.jsonl:1: expected a JSON object, found a list",
        "r.jsonl:3: 'text' must be text, found 5",
        "empty.csv: empty file",
    ]
    records = [{k: o[k] for k in ("source", "id", "kind", "body_line") if k in o}
               | {"error": o.get("error")} for o in map(json.loads, out.splitlines())]
    assert records == [
        {"source": "r.csv", "id": "1", "kind": "record", "body_line": 2, "error": None},
        {"source": "r.csv", "id": "2", "kind": "record", "body_line": 3,
         "error": {"message": "expected 2 columns, found 3", "line": 3}},
        {"source": "r.csv", "id": "3", "kind": "record", "body_line": 4,
         "error": {"message": "expected 2 columns, found 1", "line": 4}},
        {"source": "r.csv", "id": "line 5", "kind": "record", "body_line": 5,
         "error": {"message": "expected 2 columns, found 3", "line": 5}},
        {"source": "r.csv", "id": "line 6", "kind": "record", "body_line": 6, "error": None},
        {"source": "r.jsonl", "id": "line 1", "kind": "record", "body_line": 1,
         "error": {"message": "expected a JSON object, found a list", "line": 1}},
        {"source": "r.jsonl", "id": "line 2", "kind": "record", "body_line": 2, "error": None},
        {"source": "r.jsonl", "id": "line 3", "kind": "record", "body_line": 3,
         "error": {"message": "'text' must be text, found 5", "line": 3}},
        {"source": "empty.csv", "id": "empty.csv", "kind": "file", "body_line": 1,
         "error": {"message": "empty file"}},
    ]


def test_a_csv_quote_never_closed_is_reported_with_file_and_line(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "r.csv", 'id,text\n1,"unterminated\n')
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "r.csv")
    assert (rc, out, err) == (
        2, "No replies checked. 1 input could not be checked (see the errors above).\n",
        "r.csv:2 (record 1): malformed CSV: unterminated quoted field (a '\"' opened in this row "
        "is never closed; the rest of the file was not checked)\n")


def test_a_lone_surrogate_in_a_record_is_one_input_error_and_the_batch_goes_on(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A JSON \\ud800 escape without its pair decodes to a str that cannot be printed: it once
    # aborted the whole text run with "internal error: UnicodeEncodeError".
    write(work / "r.jsonl", '{"id":"s0","text":"fine"}\n'
                            '{"id":"s1","text":"bad \\ud800 damn"}\n'
                            '{"id":"s2","text":"oh damn"}\n')
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "r.jsonl")
    assert (rc, err) == (2, "r.jsonl:2 (record s1): 'text' is not valid Unicode: lone "
                            "surrogate \\ud800 at character 5\n")
    assert out == ("r.jsonl#s2:1:4: error swear swear: 'damn'\n"
                   " 1 | oh damn\n"
                   "   |    ^~~~\n"
                   "Found 1 violation (1 error, 0 warnings, 0 info) in 1 of 2 replies. 1 input "
                   "could not be checked (see the errors above).\n")


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "sarif", "github"])
def test_lone_surrogates_never_stop_a_run_in_any_format(
        work: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    write(work / "r.jsonl", '{"id":"s1","text":"bad \\udfff"}\n'
                            '{"id":"s2","text":"ok","agent":"\\ud83d"}\n'
                            '{"id":"s3\\udc00","text":"ok"}\n'
                            '{"id":"s4","text":"ok","\\ud800":"x"}\n'
                            '{"id":"s5","text":"ok","replylint":{"disable":["a\\udc80"]}}\n'
                            '{"id":"s6","text":"oh damn \\ud83d\\ude00"}\n')
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--format", fmt, "r.jsonl")
    assert rc == 2
    assert err.splitlines() == [
        "r.jsonl:1 (record s1): 'text' is not valid Unicode: lone surrogate \\udfff at "
        "character 5",
        "r.jsonl:2 (record s2): agent: not valid Unicode: lone surrogate \\ud83d at character 1",
        "r.jsonl:3: 'id' is not valid Unicode: lone surrogate \\udc00 at character 3",
        "r.jsonl:4 (record s4): field name '\\ud800' is not valid Unicode: lone surrogate "
        "\\ud800 at character 1",
        "r.jsonl:5 (record s5): replylint.disable: not valid Unicode: lone surrogate \\udc80 at "
        "character 2",
    ]
    summary = ("Found 1 violation (1 error, 0 warnings, 0 info) in 1 of 1 reply. 5 inputs could "
               "not be checked (see the errors above).")
    if fmt in ("text", "github"):
        assert out.splitlines()[-1] == summary
    elif fmt == "jsonl":
        assert [(o["id"], "error" in o) for o in map(json.loads, out.splitlines())] == [
            ("s1", True), ("s2", True), ("line 3", True), ("s4", True), ("s5", True),
            ("s6", False)]
    elif fmt == "json":
        assert json.loads(out)["summary"]["input_errors"] == 5
    else:
        (sarif_run,) = json.loads(out)["runs"]
        assert len(sarif_run["results"]) == 1
        assert len(sarif_run["invocations"][0]["toolExecutionNotifications"]) == 5


def test_bytes_that_are_not_utf8_in_a_csv_row_are_one_input_error(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "r.csv", b"id,text\n1,caf\xe9 damn\n2,oh damn\n3,\xed\xa0\x80\n")
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--format", "jsonl", "r.csv")
    assert rc == 2
    assert err.splitlines() == ["r.csv:2 (record 1): not UTF-8: invalid byte 0xe9 in column "
                                "'text'",
                                "r.csv:4 (record 3): not UTF-8: invalid byte 0xed in column "
                                "'text'"]
    assert [(o["id"], o.get("decision")) for o in map(json.loads, out.splitlines())] == [
        ("1", None), ("2", "block"), ("3", None)]


def test_a_lone_surrogate_in_front_matter_names_its_line(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "a.md", '---\nchannel: twitter\nagent: "\\ud800"\n---\nOh damn.\n')
    write(work / "b.txt", "Oh damn.")
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "a.md", "b.txt")
    assert (rc, err) == (2, "a.md:3: front matter: agent: not valid Unicode: lone surrogate "
                            "\\ud800 at character 1\n")
    assert out.startswith("b.txt:1:4: error swear swear: 'damn'\n")


def test_command_line_text_that_is_not_utf8_is_a_usage_error(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "a.txt", "Oh damn.")
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--agent", "M\udcff", "a.txt")
    assert (rc, out, err) == (2, "", "replylint: error: --agent: not valid Unicode: lone "
                                     "surrogate \\udcff at character 2 (the argument is not "
                                     "UTF-8 text)\n")


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "sarif", "github"])
def test_a_file_name_that_is_not_utf8_is_checked_and_printed_escaped(
        work: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    name = os.fsdecode(b"caf\xe9.txt")
    (work / name).write_text("Oh damn.")
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--format", fmt, name)
    assert (rc, err) == (1, "")
    shown = {"text": "caf\\udce9.txt:1:4: error swear swear: 'damn'",
             "github": "::error file=caf\\udce9.txt,line=1,col=4,endLine=1,endColumn=7,"
                       "title=swear::swear: 'damn'",
             "jsonl": '{"source": "caf\\udce9.txt", "id": "caf\\udce9.txt", "kind": "draft",',
             "json": '{"source": "caf\\udce9.txt", "id": "caf\\udce9.txt", "kind": "draft",',
             "sarif": '"uri": "caf%E9.txt"'}[fmt]
    assert shown in out
    if fmt in ("json", "jsonl", "sarif"):
        json.loads(out.splitlines()[0] if fmt == "jsonl" else out)  # still valid JSON


# --------------------------------------------------------------------------- formats


def test_json_format(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "a.md", "---\ncustomer: Dana\n---\nHi Dana,\nwe apologize.\n")
    rc, out, _ = run(capsys, "check", "--policy", "policy.yaml", "--format", "json",
                     "--statistics", "a.md")
    doc = json.loads(out)
    assert rc == 0
    (result,) = doc["results"]
    (v,) = result["violations"]
    assert (result["source"], result["body_line"], result["body_offset"], result["decision"]) == (
        "a.md", 4, 23, "warn")
    assert (v["rule"], v["line"], v["file_line"], v["column"], v["suggestions"]) == (
        "sorry", 2, 5, 1, ["Sorry about that, Dana."])
    assert "Hi Dana,\nwe apologize.\n"[v["start"]:v["end"]] == "we apologize"
    assert doc["summary"]["violations"] == 1
    assert doc["statistics"]["top_matches"] == [
        {"rule": "sorry", "matched": "we apologize", "count": 1}]


def test_sarif_format(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "a.txt", "first line\noh damn")
    rc, out, _ = run(capsys, "check", "--policy", "policy.yaml", "--format", "sarif", "a.txt")
    doc = json.loads(out)
    assert rc == 1
    run_ = doc["runs"][0]
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == ["sorry", "swear", "refund"]
    (result,) = run_["results"]
    assert result["ruleId"] == "swear" and result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 2, "startColumn": 4, "endLine": 2, "endColumn": 8, "charOffset": 14,
        "charLength": 4}
    assert run_["invocations"] == [{"executionSuccessful": True,
                                    "toolExecutionNotifications": []}]


def test_sarif_results_and_notifications_locate_files_the_same_way(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "bi" / "a.txt", "oh damn")
    write(work / "bi" / "empty.txt", "")
    rc, out, _ = run(capsys, "check", "--policy", "policy.yaml", "--format", "sarif",
                     str(work / "bi"), "bi/a.txt")
    (run_,) = json.loads(out)["runs"]
    assert rc == 2
    assert run_["originalUriBaseIds"] == {"%SRCROOT%": {"uri": work.as_uri() + "/"}}
    notes = run_["invocations"][0]["toolExecutionNotifications"]
    assert [loc["physicalLocation"]["artifactLocation"]
            for r in run_["results"] + notes for loc in r["locations"]] == [
        {"uri": "bi/a.txt", "uriBaseId": "%SRCROOT%"},
        {"uri": "bi/a.txt", "uriBaseId": "%SRCROOT%"},
        {"uri": "bi/empty.txt", "uriBaseId": "%SRCROOT%"}]


def test_github_format(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "a.txt", "oh damn")
    rc, out, _ = run(capsys, "check", "--policy", "policy.yaml", "--format", "github", "a.txt")
    assert rc == 1
    assert out.splitlines()[0] == ("::error file=a.txt,line=1,col=4,endLine=1,endColumn=7,"
                                   "title=swear::swear: 'damn'")


def test_text_format_colour(work: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    write(work / "a.txt", "oh damn")
    _, out, _ = run(capsys, "check", "--policy", "policy.yaml", "--color", "always", "a.txt")
    assert "\x1b[1;31merror\x1b[0m" in out
    monkeypatch.setattr(cli, "_isatty", lambda stream: True)
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run(capsys, "check", "--policy", "policy.yaml", "a.txt")
    assert "\x1b[" not in out
    monkeypatch.delenv("NO_COLOR")
    _, out, err = run(capsys, "check", "--policy", "policy.yaml", "a.txt")
    assert "\x1b[" in out and err == ""


def test_quiet_and_statistics(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "r.jsonl", "".join(f'{{"id": {i}, "text": "damn {i}, we apologize"}}\n'
                                    for i in range(3)))
    rc, out, _ = run(capsys, "check", "--policy", "policy.yaml", "-q", "--statistics", "r.jsonl")
    assert rc == 1
    assert out.splitlines() == [
        "Statistics:",
        "  violations  replies  rule   severity",
        "           3        3  sorry  warning",
        "           3        3  swear  error",
        "Most frequent matches:",
        "           3  sorry  'we apologize'",
        "           3  swear  'damn'",
        "Found 6 violations (3 errors, 3 warnings, 0 info) in 3 of 3 replies.",
    ]


# --------------------------------------------------------------------------- context


def test_front_matter_context_and_suppression(work: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "a.md", "---\ncustomer: Dana\nreplylint: {disable: [sorry, swear, nope], "
                         "reason: legal template}\n---\nWe apologize, damn.\n")
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--format", "json", "a.md")
    (result,) = json.loads(out)["results"]
    assert rc == 1
    assert [v["rule"] for v in result["violations"]] == ["swear"]
    assert result["suppressed"] == ["sorry"]
    assert err == ("a.md:3: warning: replylint.disable: 'swear' cannot be disabled: the policy "
                   "marks it suppressible: false, so it is still checked\n"
                   "a.md:3: warning: replylint.disable: unknown rule 'nope'\n")


def test_rules_left_out_by_select_are_still_known_to_replylint_disable(
        work: Path, capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    draft = str(repo / "examples" / "drafts" / "06-approved-template.txt")
    rc, out, err = run(capsys, "check", "--policy", "pack:default", draft, "--select", "signature")
    assert (rc, out, err) == (0, "1 reply clean.\n", "")
    write(work / "a.md", "---\nreplylint: {disable: [sorry, nope]}\n---\nWe apologize.\n")
    for options in (["--select", "swear"], ["--ignore", "sorry"], []):
        rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "a.md", *options)
        assert (rc, err) == (0, "a.md:2: warning: replylint.disable: unknown rule 'nope'\n")


FRONT_MATTER_MISTAKES = """\
---
chanel: twitter
customer_id: 42
Brand: Acme
agent-name: Maya
replylint:
  disable:
    - signature.x
    - trading-advice
    - personal-data
    - scripted-phrasing
  reason: template T-12
---
Please be advised that we are on it. ^MS
"""


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_front_matter_mistakes_are_one_warning_line_each(
        work: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    write(work / "a.md", FRONT_MATTER_MISTAKES)
    rc, out, err = run(capsys, "check", "--policy", "pack:default", "--format", fmt, "a.md")
    assert rc == 0  # warnings never change the exit code
    assert err.splitlines() == [
        "a.md:2: warning: front matter key 'chanel' is not a context field (did you mean "
        "'channel'?); it is only a message placeholder",
        "a.md:8: warning: replylint.disable: unknown rule 'signature.x' (did you mean "
        "'signature'?)",
        "a.md:9: warning: replylint.disable: 'trading-advice' cannot be disabled: the policy "
        "marks all 4 rules it names suppressible: false, so they are still checked",
        "a.md:10: warning: replylint.disable: 'personal-data' cannot be disabled: the policy "
        "marks all 5 rules it names suppressible: false, so they are still checked",
    ]
    if fmt == "json":
        (result,) = json.loads(out)["results"]
        assert (result["suppressed"], result["violations"]) == (["scripted-phrasing", "scripted-phrasing.template"], [])


def test_disable_warnings_for_records_name_the_record_once_per_file(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "r.jsonl", '{"id": "a", "text": "hi", "replylint": {"disable": ["sory"]}}\n'
                            '{"id": "b", "text": "hi", "disable": "sory, swear.x, swear"}\n'
                            '{"text": "hi", "disable": "swear.x"}\n')
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "r.jsonl")
    assert (rc, out) == (0, "All 3 replies clean.\n")
    assert err.splitlines() == [
        "r.jsonl:1 (record a): warning: replylint.disable: unknown rule 'sory' (did you mean "
        "'sorry'?)",
        "r.jsonl:2 (record b): warning: disable: unknown rule 'swear.x' (did you mean 'swear'?)",
        "r.jsonl:2 (record b): warning: disable: 'swear' cannot be disabled: the policy marks it "
        "suppressible: false, so it is still checked",
    ]


def test_command_line_context_and_front_matter_wins(work: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "pol.yaml", "rules:\n  - id: hello\n    type: pattern\n"
                             "    message: '{customer} on {channel}'\n    patterns: [hello]\n")
    write(work / "a.txt", "hello")
    write(work / "b.md", "---\ncustomer: Dana\n---\nhello")
    rc, out, _ = run(capsys, "check", "--policy", "pol.yaml", "--customer", "Sam", "--channel",
                     "email", "--format", "jsonl", "a.txt", "b.md")
    assert [json.loads(line)["violations"][0]["message"] for line in out.splitlines()] == [
        "Sam on email", "Dana on email"]


def test_stdin_draft_and_stdin_jsonl(work: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"---\nx: 1\n---\noh damn")))
    rc, out, _ = run(capsys, "check", "--policy", "policy.yaml", "-")
    assert (rc, out.splitlines()[0]) == (1, "-:4:4: error swear swear: 'damn'")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(
        b'{"tweet": 5, "reply": "all good"}\n{"tweet": 6, "reply": "we apologize"}\n')))
    rc, out, _ = run(capsys, "check", "--policy", "policy.yaml", "-", "--stdin-format", "jsonl",
                     "--text-field", "reply", "--id-field", "tweet", "--format", "jsonl")
    assert [(o["id"], o["decision"]) for o in map(json.loads, out.splitlines())] == [
        ("5", "allow"), ("6", "warn")]


@pytest.mark.parametrize("options, rules", [
    ([], ["sorry", "swear", "refund"]),
    (["--select", "sorry,refund"], ["sorry", "refund"]),
    (["--select", "sorry", "--select", "swear"], ["sorry", "swear"]),
    (["--ignore", "swear"], ["sorry", "refund"]),
])
def test_select_and_ignore(work: Path, capsys: pytest.CaptureFixture[str], options: list[str],
                           rules: list[str]) -> None:
    write(work / "a.txt", "We apologize, damn, no refund.")
    _, out, _ = run(capsys, "check", "--policy", "policy.yaml", "--format", "jsonl", "a.txt",
                    *options)
    assert [v["rule"] for v in json.loads(out)["violations"]] == rules


# --------------------------------------------------------------------------- discovery


def test_each_input_uses_its_nearest_config(work: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    write(work / ".replylint.yaml", "policy: {extends: [policy.yaml]}\n")
    write(work / "team" / "pyproject.toml",
          '[tool.replylint.policy]\nname = "team"\n[[tool.replylint.rules]]\nid = "dang"\n'
          'type = "pattern"\npatterns = ["dang"]\n')
    write(work / "a.txt", "oh damn, dang")
    write(work / "team" / "deep" / "b.txt", "oh damn, dang")
    rc, out, _ = run(capsys, "check", "--format", "jsonl", "a.txt", "team")
    assert rc == 1
    assert [(o["source"], o["policy"], [v["rule"] for v in o["violations"]])
            for o in map(json.loads, out.splitlines())] == [
        ("a.txt", "cli-test", ["swear"]), ("team/deep/b.txt", "team", ["dang"])]


def test_broken_discovered_policy_is_reported_once_and_others_still_run(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / ".replylint.yaml", "policy: {extends: [policy.yaml]}\n")
    write(work / "bad" / "replylint.yaml", "rules: nope\n")
    write(work / "bad" / "x.txt", "oh damn")
    write(work / "bad" / "y.txt", "oh damn")
    write(work / "good.txt", "oh damn")
    rc, out, err = run(capsys, "check", "bad", "good.txt")
    assert rc == 2
    assert err.splitlines() == [
        "bad/replylint.yaml:1:8: rules: expected a list of rules, found 'nope'"]
    assert "good.txt:1:4: error swear swear: 'damn'" in out


# --------------------------------------------------------------------------- fixes


@pytest.fixture
def fixing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give every `swear` violation a fix (pattern rules have none) to drive --fix/--diff."""

    @dataclasses.dataclass(frozen=True)
    class FixingLinter(replylint.Linter):
        def check(self, text: str, context: ContextLike = None, **kw: object) -> Report:
            report = super().check(text, context)
            return dataclasses.replace(report, violations=tuple(
                dataclasses.replace(v, fix=(Edit(v.start, v.end, "darn"),))
                if v.rule == "swear" else v for v in report.violations))

    monkeypatch.setattr(config, "Linter", FixingLinter)


def test_fix_rewrites_drafts_keeping_front_matter(work: Path, fixing: None,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "a.md", "---\nagent: MS\n---\nOh damn, damn! we apologize\n")
    write(work / "r.jsonl", '{"id": 1, "text": "damn"}\n')
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--fix", "a.md", "r.jsonl")
    assert (work / "a.md").read_text() == "---\nagent: MS\n---\nOh darn, darn! we apologize\n"
    assert (work / "r.jsonl").read_text() == '{"id": 1, "text": "damn"}\n'
    assert rc == 1
    assert out.splitlines()[0] == "a.md: fixed 2 (swear)"
    assert out.splitlines()[1] == "a.md:4:16: warning sorry 'we apologize' sounds scripted"
    assert out.splitlines()[-1] == ("Found 2 violations (1 error, 1 warning, 0 info) in 2 of 2 "
                                    "replies. Fixed 2 violations in 1 file.")


def test_diff_shows_the_fix_and_writes_nothing(work: Path, fixing: None,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "a.md", "---\nagent: MS\n---\nOh damn!\nBye")
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--diff", "a.md")
    assert (work / "a.md").read_text() == "---\nagent: MS\n---\nOh damn!\nBye"
    assert rc == 1
    assert out == ("--- a/a.md\n+++ b/a.md\n@@ -1,5 +1,5 @@\n ---\n agent: MS\n ---\n"
                   "-Oh damn!\n+Oh darn!\n Bye\n\\ No newline at end of file\n")
    assert err == "Found 1 violation (1 error, 0 warnings, 0 info) in 1 of 1 reply.\n"


def stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_fix_on_stdin_writes_the_fixed_reply_to_stdout_and_the_report_to_stderr(
        work: Path, fixing: None, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    stdin(monkeypatch, b"---\nagent: MS\n---\nOh damn! we apologize")
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--fix", "-")
    assert (rc, out) == (0, "---\nagent: MS\n---\nOh darn! we apologize")
    assert err == ("-: fixed 1 (swear)\n"
                   "-:4:10: warning sorry 'we apologize' sounds scripted\n"
                   " 4 | Oh darn! we apologize\n"
                   "   |          ^~~~~~~~~~~~\n"
                   "  suggestion: Sorry about that.\n"
                   "Found 1 violation (0 errors, 1 warning, 0 info) in 1 of 1 reply. Fixed 1 "
                   "violation in 1 file.\n")
    stdin(monkeypatch, b"we apologize")  # nothing to fix: the reply goes through unchanged
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--fix", "-", "--fail-on",
                       "warning", "--format", "jsonl")
    assert (rc, out) == (1, "we apologize")
    assert [(o["id"], o["decision"]) for o in map(json.loads, err.splitlines())] == [
        ("-", "warn")]
    stdin(monkeypatch, b"")  # nothing readable: nothing on stdout, exit 2
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--fix", "-")
    assert (rc, out, err) == (2, "", "-: empty file\nNo replies checked. 1 input could not be "
                                     "checked (see the errors above).\n")


def test_fix_on_stdin_must_be_the_only_input(work: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    write(work / "a.txt", "Oh damn.")
    stdin(monkeypatch, b"Oh damn.")
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--fix", "-", "a.txt")
    assert (rc, out, err) == (2, "", "replylint: error: --fix with - writes the fixed reply to "
                                     "standard output, so - must be the only input\n")


def test_diff_on_stdin(work: Path, fixing: None, capsys: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    stdin(monkeypatch, b"Oh damn!\n")
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--diff", "-")
    assert (rc, out, err) == (1, "--- a/-\n+++ b/-\n@@ -1 +1 @@\n-Oh damn!\n+Oh darn!\n",
                              "Found 1 violation (1 error, 0 warnings, 0 info) in 1 of 1 "
                              "reply.\n")


def test_the_fix_hint_names_only_what_works_for_the_input(
        work: Path, fixing: None, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    write(work / "a.txt", "damn")
    write(work / "b.txt.gz", gzip.compress(b"damn"))
    write(work / "r.jsonl", '{"id": 1, "text": "damn"}\n')
    stdin(monkeypatch, b"damn")
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "a.txt", "b.txt.gz",
                       "r.jsonl")
    hints = [line for line in out.splitlines() if "fix available" in line]
    assert (rc, err) == (1, "")
    assert hints == ["  fix available (--fix or --diff)",
                     "  fix available (--diff; compressed drafts are never rewritten)",
                     "  fix available (archive records are never rewritten)"]
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "-")
    assert (rc, err) == (1, "")
    assert [line for line in out.splitlines() if "fix available" in line] == [
        "  fix available (--fix or --diff)"]


# --------------------------------------------------------------------------- other commands


def test_rules_command(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "rules", "--policy", "policy.yaml")
    assert (rc, out.splitlines()) == (0, [
        "rule    type     severity  why",
        "sorry   pattern  warning   Scripted apologies sound insincere.",
        "swear   pattern  error     ",
        "refund  pattern  info      ",
    ])
    rc, out, _ = run(capsys, "rules", "--policy", "policy.yaml", "--format", "json")
    data = json.loads(out)
    assert data["rules"][0] == {"id": "sorry", "type": "pattern", "severity": "warning",
                                "message": "'{match}' sounds scripted",
                                "why": "Scripted apologies sound insincere.",
                                "suggestions": ["Sorry about that, {customer}."],
                                "suppressible": True, "channels": None,
                                "source": "policy.yaml:4"}


def test_explain_command(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "explain", "sorry", "--policy", "policy.yaml")
    lines = out.splitlines()
    assert rc == 0
    assert lines[:8] == [
        "sorry",
        "  type:         pattern (Regular expressions (Unicode properties, fuzzy matching, named "
        "groups).)",
        "  severity:     warning",
        "  suppressible: yes",
        "  channels:     all",
        "  defined at:   policy.yaml:4",
        "  message:      '{match}' sounds scripted",
        "  why:          Scripted apologies sound insincere.",
    ]
    assert '    patterns: ["we apologi[sz]e"]' in lines  # the rule's own option values
    assert lines[-5:] == ["  suggestions:", "    - Sorry about that, {customer}.", "  examples:",
                          "    fail: 'We apologise.'", "    pass: 'Sorry!'"]
    rc, out, err = run(capsys, "explain", "sory", "--policy", "policy.yaml")
    assert (rc, out, err) == (2, "", "replylint: error: unknown rule 'sory' in policy "
                                     "'cli-test'; known rules: sorry, swear, refund\n")


def test_test_policy_exit_codes(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "test-policy", "policy.yaml")
    assert (rc, out) == (0, "4 passed, 0 failed\n")
    rc, out, _ = run(capsys, "test-policy", "policy.yaml", "-v")
    assert rc == 0 and out.splitlines()[0] == (
        "policy.yaml:11: sorry: ok: must be flagged: 'We apologise.'")
    write(work / "failing.yaml", POLICY.replace('pass: ["dam the river"]', 'pass: ["damn it"]'))
    rc, out, _ = run(capsys, "test-policy", "failing.yaml")
    assert (rc, out.splitlines()) == (1, [
        "failing.yaml:17: swear: FAILED: must pass: 'damn it'; flagged: swear 'damn'",
        "3 passed, 1 failed"])
    write(work / "broken.yaml", "rules: [{id: x, type: nope}]\n")
    rc, out, err = run(capsys, "test-policy", "broken.yaml")
    assert (rc, out) == (2, "0 passed, 0 failed\n")
    assert err.startswith("broken.yaml:1:23: rules[0].type: unknown rule type 'nope'")
    rc, _, err = run(capsys, "test-policy", "policy.yaml", "--all-packs")
    assert (rc, err) == (2, "replylint: error: give a POLICY or --all-packs, not both\n")


def test_schema_command(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("replylint.schema", reason="src/replylint/schema.py (the lead's) missing")
    rc, out, _ = run(capsys, "schema")
    schema = json.loads(out)
    assert rc == 0 and "rules" in schema["properties"]


# --------------------------------------------------------------------------- the default pack


def test_default_pack_is_used_without_a_policy(work: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "a.txt", "Ugh, that update is a f*cking mess, sorry! ^MS")
    rc, out, _ = run(capsys, "check", "--format", "jsonl", "a.txt")
    result = json.loads(out)
    assert (rc, result["policy"]) == (1, "default")
    assert [v["rule"] for v in result["violations"]] == ["profanity"]


def test_rules_lists_the_default_pack_ids(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "rules", "--format", "json")
    ids = {r["id"].split(".")[0] for r in json.loads(out)["rules"]}
    assert rc == 0
    assert {"profanity", "trading-advice", "signature", "scripted-phrasing", "personal-data",
            "promise"} <= ids


def test_fix_adds_the_agents_signature_with_the_default_pack(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "a.md", "---\nagent: MS\n---\nSorry about the wait, we're on it!\n")
    rc, out, err = run(capsys, "check", "--select", "signature", "--diff", "a.md")
    assert out.startswith("--- a/a.md\n+++ b/a.md\n")
    assert "+Sorry about the wait, we're on it! ^MS\n" in out
    rc, out, err = run(capsys, "check", "--select", "signature", "--fix", "a.md")
    assert (work / "a.md").read_text() == "---\nagent: MS\n---\nSorry about the wait, we're on " \
                                          "it! ^MS\n"
    assert (rc, out.splitlines()) == (0, ["a.md: fixed 1 (signature)",
                                          "1 reply clean. Fixed 1 violation in 1 file."])


def test_test_policy_passes_on_every_shipped_pack(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "test-policy", "--all-packs")
    assert (rc, err) == (0, "")
    assert out.splitlines()[-1].endswith(" passed, 0 failed")


def test_progress_only_on_a_terminal_for_long_runs(work: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    write(work / "r.jsonl", "".join(f'{{"id": {i}, "text": "fine {i}"}}\n' for i in range(250)))
    rc, _, err = run(capsys, "check", "--policy", "policy.yaml", "--format", "json", "r.jsonl")
    assert (rc, err) == (0, "")
    monkeypatch.setattr(cli, "_isatty", lambda stream: True)
    monkeypatch.delenv("CI", raising=False)
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--format", "json", "r.jsonl")
    assert rc == 0 and json.loads(out)["summary"]["replies"] == 250
    assert regex.fullmatch(r"201 / 250 replies \(80%\) [\d,]+/s, ETA \d+s\r +\r", err), err
    monkeypatch.setenv("CI", "true")
    rc, out, err = run(capsys, "check", "--policy", "policy.yaml", "--format", "json", "r.jsonl")
    assert (rc, err) == (0, "")


def test_messages_wipe_the_progress_line_first(work: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: a warning ran into the progress line (`2,306 replies (2,762/s)bad.jsonl:...`)."""
    lines = [f'{{"id": {i}, "text": "fine {i}"}}\n' for i in range(260)]
    lines[230] = "not json\n"
    write(work / "r.jsonl", "".join(lines))
    monkeypatch.setattr(cli, "_isatty", lambda stream: True)
    monkeypatch.delenv("CI", raising=False)
    rc, _, err = run(capsys, "check", "--policy", "policy.yaml", "--format", "json", "r.jsonl")
    progress, message = err.split("\rr.jsonl:231: not valid JSON")
    assert rc == 2 and regex.fullmatch(r"201 / 260 replies \(77%\) [^\r\n]+\r +", progress)
    assert message.endswith("\n")


@pytest.mark.parametrize(("seconds", "shown"), [(0.2, "0s"), (59.6, "1m 00s"), (61, "1m 01s"),
                                                (3725, "1h 02m")])
def test_eta_reads_like_a_duration(seconds: float, shown: str) -> None:
    assert cli._duration(seconds) == shown


def test_reply_count_for_the_eta(work: Path) -> None:
    write(work / "a.jsonl", '{"text": "a"}\n{"text": "b"}')
    write(work / "b.csv", "id,text\n1,a\n2,b\n3,c\n")
    write(work / "d" / "x.txt", "hi")
    write(work / "d" / "y.md", "hi")
    assert cli._count_replies(["a.jsonl", "b.csv", "d"]) == 7
    assert cli._count_replies(["a.jsonl", "-"]) is None
