"""Reading replies: drafts and front matter, directories, JSONL/CSV archives, stdin, fixes."""

from __future__ import annotations

import gzip
import io
import os
import sys
import time
from pathlib import Path

import pytest

from replylint import Context, Edit
from replylint.errors import InputError
from replylint.inputs import (
    MAX_FILE_BYTES,
    MAX_LINE_CHARS,
    ContextError,
    Item,
    ReadOptions,
    _near_miss,
    apply_fixes,
    build_context,
    iter_items,
    parse_draft,
    read_stream,
    rewrite_draft,
)


def errors(items: list[Item]) -> list[str]:
    return [str(i.error) for i in items if i.error is not None]


def read(path: Path, **options: object) -> list[Item]:
    return list(iter_items([str(path)], ReadOptions(**options)))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- drafts


def test_draft_without_front_matter_is_all_reply() -> None:
    item = parse_draft(b"Hi Dana, sorry! ^MS\n", "a.txt")
    assert item == Item("a.txt", "a.txt", "Hi Dana, sorry! ^MS\n", Context(), None, 0, 1, "draft",
                        "")


def test_front_matter_is_context_never_reply() -> None:
    raw = (b"---\nchannel: twitter\nagent: MS\ncustomer: Dana\npublic: true\nticket: 4411\n"
           b"replylint: {disable: [scripted-phrasing], reason: approved T-12}\n---\n"
           b"Hi Dana, sorry about the wait! ^MS\n")
    item = parse_draft(raw, "d.md")
    assert item.error is None
    assert item.text == "Hi Dana, sorry about the wait! ^MS\n"
    assert item.context == Context(channel="twitter", agent="MS", customer="Dana", public=True,
                                   disable=("scripted-phrasing",), reason="approved T-12",
                                   extra=(("ticket", "4411"),))
    assert item.body_line == 9
    text = raw.decode()
    assert text[item.body_offset:] == item.text
    assert item.header + item.text == text


def test_front_matter_with_crlf_and_bom() -> None:
    raw = b"\xef\xbb\xbf---\r\nagent: JK\r\n---\r\nThanks!\r\nBye ^JK"
    item = parse_draft(raw, "w.txt")
    assert (item.error, item.text, item.context.agent, item.body_line) == (
        None, "Thanks!\r\nBye ^JK", "JK", 4)
    assert item.header == "---\r\nagent: JK\r\n---\r\n"


def test_command_line_context_fills_in_what_front_matter_lacks() -> None:
    options = ReadOptions(context={"channel": "email", "agent": "ZZ"})
    item = parse_draft(b"---\nagent: MS\n---\nHi\n", "a.txt", options)
    assert (item.context.channel, item.context.agent) == ("email", "MS")
    plain = parse_draft(b"Hi\n", "b.txt", options)
    assert (plain.context.channel, plain.context.agent) == ("email", "ZZ")


def test_empty_front_matter_is_allowed() -> None:
    item = parse_draft(b"---\n---\nHello\n", "a.md")
    assert (item.error, item.text, item.context, item.body_line) == (None, "Hello\n", Context(), 3)


def test_dashes_later_in_a_reply_are_not_front_matter() -> None:
    item = parse_draft(b"Hello\n---\nnot: context\n---\n", "a.md")
    assert item.text == "Hello\n---\nnot: context\n---\n"
    assert item.context == Context()


@pytest.mark.parametrize("raw, message", [
    (b"", "a.txt: empty file"),
    (b"  \n\t\n", "a.txt: empty reply (only whitespace)"),
    (b"---\nagent: MS\n---\n\n  \n", "a.txt:4: empty reply after front matter"),
    (b"hi\x00there", "a.txt: binary file (contains NUL bytes), not a reply"),
    (b"caf\xe9 au lait", "a.txt:1: not UTF-8: invalid byte 0xe9 at byte offset 3"),
    (b"ok\r\nfine\ncaf\xe9", "a.txt:3: not UTF-8: invalid byte 0xe9 at byte offset 12"),
    (b"---\nagent: MS\nHello\n", "a.txt:1: front matter: no closing '---' line"),
    (b"---\nagent: [MS\n---\nHello\n",
     "a.txt:3: front matter: YAML syntax error: expected ',' or ']', but got '<stream end>'"),
    (b"---\n- a list\n---\nHello\n",
     "a.txt:2: front matter: expected a mapping of context fields (channel, agent, customer, "
     "public, replylint), found a list"),
    (b"---\nchannel: x\nreplylint: {disable: 3}\n---\nHello\n",
     "a.txt:3: front matter: replylint.disable: expected a list of rule ids, found 3"),
    (b"---\nreplylint:\n  disabel: [x]\n---\nHello\n",
     "a.txt:3: front matter: replylint: unknown key 'disabel' (allowed: disable, reason)"),
    (b"---\nreplylint: scripted-phrasing\n---\nHello\n",
     "a.txt:2: front matter: replylint: expected a mapping with `disable` and `reason`, "
     "found 'scripted-phrasing'"),
    (b"---\npublic: maybe\n---\nHello\n",
     "a.txt:2: front matter: public: expected true or false, found 'maybe'"),
    (b"---\nagent: [MS, JK]\n---\nHello\n",
     "a.txt:2: front matter: agent: expected text, found a list"),
])
def test_bad_drafts_are_one_line_errors(raw: bytes, message: str) -> None:
    item = parse_draft(raw, "a.txt")
    assert isinstance(item.error, InputError)
    assert str(item.error) == message
    assert "\n" not in str(item.error)


def test_front_matter_public_accepts_yes_and_no_words() -> None:
    assert parse_draft(b"---\npublic: yes\n---\nHi\n", "a").context.public is True
    assert parse_draft(b"---\npublic: off\n---\nHi\n", "a").context.public is False


def test_a_line_over_the_limit_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_bytes(b"ok\n" + b"a" * (MAX_LINE_CHARS + 1) + b"\nbye\n")
    assert errors(read(path)) == [
        f"{path}:2: line is longer than the 1,000,000-character limit"]


def test_a_line_at_the_limit_in_multibyte_characters_is_accepted() -> None:
    item = parse_draft("é".encode() * MAX_LINE_CHARS, "a.txt")
    assert item.error is None and len(item.text) == MAX_LINE_CHARS


def test_a_10_mb_single_line_file_is_rejected_quickly(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as f:
        f.write(b"a" * (10 * 1024 * 1024))
    started = time.monotonic()
    items = read(path)
    assert time.monotonic() - started < 1.0
    assert errors(items) == [
        f"{path}: file is larger than the 10 MB limit (10,485,760 bytes)"]


def test_stdin_over_the_limit_is_rejected_without_reading_it_all() -> None:
    stream = io.BytesIO(b"a" * (MAX_FILE_BYTES + 10))
    items = list(read_stream(stream, "-", "text", ReadOptions()))
    assert errors(items) == ["-: file is larger than the 10 MB limit (more than 10,000,000 bytes)"]
    assert stream.tell() == MAX_FILE_BYTES + 1


def test_missing_file(tmp_path: Path) -> None:
    assert errors(read(tmp_path / "nope.txt")) == [f"{tmp_path / 'nope.txt'}: no such file or "
                                                   f"directory"]


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="permissions are not enforced for root")
def test_unreadable_directory_is_an_error_and_the_rest_goes_on(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.txt").write_text("hidden")
    (tmp_path / "b.txt").write_text("visible")
    locked.chmod(0)
    try:
        items = read(tmp_path)
    finally:
        locked.chmod(0o755)
    assert [(i.source, i.text) for i in items] == [
        (f"{tmp_path}/b.txt", "visible"), (f"{tmp_path}/locked", "")]
    assert errors(items) == [f"{tmp_path}/locked: cannot list directory: permission denied"]


# --------------------------------------------------------------------------- directories


def test_directories_are_walked_sorted_recursively_skipping_hidden(tmp_path: Path) -> None:
    for name, content in {"b.txt": "b", "a.md": "a", "notes.rst": "skip", "sub/c.txt": "c",
                          ".git/d.txt": "skip", "sub/.e.txt": "skip", "z.txt.gz": None,
                          "r.jsonl": '{"id": 1, "text": "r1"}\n'}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.write_bytes(gzip.compress(b"zipped draft"))
        else:
            path.write_text(content)
    items = read(tmp_path)
    assert [(Path(i.source).relative_to(tmp_path).as_posix(), i.id, i.text, i.kind)
            for i in items] == [
        ("a.md", f"{tmp_path}/a.md", "a", "draft"),
        ("b.txt", f"{tmp_path}/b.txt", "b", "draft"),
        ("r.jsonl", "1", "r1", "record"),
        ("sub/c.txt", f"{tmp_path}/sub/c.txt", "c", "draft"),
        ("z.txt.gz", f"{tmp_path}/z.txt.gz", "zipped draft", "draft"),
    ]


def test_an_explicit_file_with_any_suffix_is_a_draft(tmp_path: Path) -> None:
    path = tmp_path / "reply.draft"
    path.write_text("Hello there")
    assert [(i.text, i.kind) for i in read(path)] == [("Hello there", "draft")]


# --------------------------------------------------------------------------- JSONL


def test_jsonl_records_carry_context_and_bad_lines_do_not_stop_the_run(tmp_path: Path) -> None:
    path = tmp_path / "replies.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"id": "a1", "text": "first", "channel": "twitter", "agent": "MS", '
        b'"public": false, "likes": 3, "meta": {"x": 1}}\n'
        b"\n"
        b"not json\n"
        b"[1, 2]\n"
        b'{"id": 7, "body": "no text field"}\n'
        b'{"id": "n", "text": 12}\n'
        b'{"id": "e", "text": "   "}\n'
        b'{"id": "u", "text": "caf\xe9"}\n'
        b'{"text": "no id", "replylint": {"disable": "promise"}}\n')
    items = read(path)
    first = items[0]
    assert (first.id, first.text, first.kind, first.body_line) == ("a1", "first", "record", 1)
    assert first.context == Context(channel="twitter", agent="MS", public=False,
                                    extra=(("likes", "3"),))
    last = items[-1]
    assert (last.id, last.text, last.body_line, last.context.disable) == (
        "line 9", "no id", 9, ("promise",))
    assert errors(items) == [
        f"{path}:3: not valid JSON: Expecting value (column 1)",
        f"{path}:4: expected a JSON object, found a list",
        f"{path}:5 (record 7): no 'text' field (fields: id, body); use --text-field",
        f"{path}:6 (record n): 'text' must be text, found 12",
        f"{path}:7 (record e): empty 'text'",
        f"{path}:8: not UTF-8: invalid byte 0xe9 at byte offset 24 of the line",
    ]
    assert [(i.id, i.kind) for i in items if i.error is not None] == [
        ("line 3", "record"), ("line 4", "record"), ("7", "record"), ("n", "record"),
        ("e", "record"), ("line 8", "record")]


def test_jsonl_lone_surrogates_only_matter_where_replylint_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"id": "a", "text": "ok \\ud83d\\ude00", "meta": {"cut": "\\ud83d"}}\n'
                    '{"id": "b", "text": "cut emoji \\ud83d"}\n')
    items = read(path)
    assert [(i.id, i.text) for i in items if i.error is None] == [("a", "ok \U0001f600")]
    assert errors(items) == [f"{path}:2 (record b): 'text' is not valid Unicode: lone surrogate "
                             f"\\ud83d at character 11"]


def test_jsonl_custom_fields_and_gzip(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"tweet_id": 99, "reply": "hi there", "text": "ctx"}\n'))
    items = read(path, text_field="reply", id_field="tweet_id")
    assert [(i.id, i.text, i.context.extra) for i in items] == [
        ("99", "hi there", (("text", "ctx"),))]


def test_truncated_gzip_reports_where_it_stopped(tmp_path: Path) -> None:
    data = gzip.compress(b"".join(b'{"id": %d, "text": "reply %d"}\n' % (i, i)
                                  for i in range(2000)))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    items = read(path)
    assert all(i.error is None for i in items[:-1]) and len(items) > 1
    assert items[-1].error is not None
    assert "gzip data is corrupt or truncated" in str(items[-1].error)
    assert str(items[-1].error).endswith("the rest of the file was not checked")


def test_jsonl_line_over_the_limit_is_skipped_and_the_next_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("wb") as f:
        f.write(b'{"id": 1, "text": "' + b"a" * (MAX_LINE_CHARS * 4 + 5) + b'"}\n')
        f.write(b'{"id": 2, "text": "ok"}\n')
    items = read(path)
    assert errors(items) == [f"{path}:1: line is longer than the 1,000,000-character limit"]
    assert [(i.id, i.text) for i in items[1:]] == [("2", "ok")]


# --------------------------------------------------------------------------- CSV


def test_csv_records_with_quoted_newlines_keep_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text('id,text,channel,public,disable\n'
                    '1,"two\nlines",twitter,yes,"promise, signature"\n'
                    '2,plain,,no,\n'
                    '3,short\n'
                    '4,"",email,,\n'
                    ',,,,\n'
                    '5,last,sms,maybe,\n', encoding="utf-8-sig")
    items = read(path)
    ok = [(i.id, i.text, i.body_line, i.context) for i in items if i.error is None]
    assert ok == [
        ("1", "two\nlines", 2, Context(channel="twitter", public=True,
                                       disable=("promise", "signature"))),
        ("2", "plain", 4, Context(public=False)),
    ]
    assert errors(items) == [
        f"{path}:5 (record 3): expected 5 columns, found 2",
        f"{path}:6 (record 4): empty 'text'",
        f"{path}:8 (record 5): public: expected true or false, found 'maybe'",
    ]


UNTERMINATED = ("unterminated quoted field (a '\"' opened in this row is never closed; the rest of "
                "the file was not checked)")


@pytest.mark.parametrize("content, ok, error", [
    ('id,text\n1,"unterminated\n', [], ":2 (record 1): malformed CSV: " + UNTERMINATED),
    ('id,text\n1,first\n2,"never closed\n3,swallowed\n', [("1", "first")],
     ":3 (record 2): malformed CSV: " + UNTERMINATED),
    ('id,text\n1,"a ""quoted"" word"\n2,"ends the file ""closed"""', [
        ("1", 'a "quoted" word'), ("2", 'ends the file "closed"')], None),
    ('id,text\n1,"two\nlines"\n2,5" screen\n', [("1", "two\nlines"), ("2", '5" screen')], None),
    ('id,"text\n1,x\n', [], ":1: malformed CSV header: " + UNTERMINATED),
])
def test_csv_quote_never_closed_is_an_input_error(tmp_path: Path, content: str,
                                                  ok: list[tuple[str, str]],
                                                  error: str | None) -> None:
    path = tmp_path / "r.csv"
    path.write_text(content)
    items = read(path)
    assert [(i.id, i.text) for i in items if i.error is None] == ok
    assert errors(items) == ([f"{path}{error}"] if error else [])


def test_csv_without_the_text_column_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id,body\n1,a\n2,b\n3,c\n")
    assert errors(read(path)) == [
        f"{path}:1: no 'text' column (columns: id, body); use --text-field"]
    assert [(i.id, i.text) for i in read(path, text_field="body")] == [
        ("1", "a"), ("2", "b"), ("3", "c")]


def test_stdin_formats() -> None:
    draft = list(read_stream(io.BytesIO(b"---\nagent: MS\n---\nHi ^MS"), "-", "text",
                             ReadOptions()))
    assert [(i.source, i.id, i.text, i.context.agent, i.body_line) for i in draft] == [
        ("-", "-", "Hi ^MS", "MS", 4)]
    records = list(read_stream(io.BytesIO(b"id,text\n1,one\n2,two\n"), "-", "csv", ReadOptions()))
    assert [(i.source, i.id, i.text) for i in records] == [("-", "1", "one"), ("-", "2", "two")]


def test_iter_items_is_lazy(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text("".join(f'{{"id": {i}, "text": "t{i}"}}\n' for i in range(5)))
    stream = iter_items([str(path), str(tmp_path / "missing.txt")])
    assert next(stream).id == "0"
    rest = list(stream)
    assert [i.id for i in rest][-1] == str(tmp_path / "missing.txt")


@pytest.mark.parametrize("data, message", [
    ({"channel": {"a": 1}}, "channel: expected text, found a mapping"),
    ({"replylint": {"disable": []}}, "replylint.disable: expected at least one rule id"),
    ({"replylint": {"disable": ["ok", 3]}},
     "replylint.disable: expected a list of rule ids, found a list"),
    ({"reason": ["x"]}, "reason: expected text, found a list"),
    ({"agent": "\ud800"}, "agent: not valid Unicode: lone surrogate \\ud800 at character 1"),
    ({"replylint": {"reason": "ok \udfff"}},
     "replylint.reason: not valid Unicode: lone surrogate \\udfff at character 4"),
    ({"disable": ["a", "b\udc80"]},
     "disable: not valid Unicode: lone surrogate \\udc80 at character 2"),
    ({"x\ud800": 1}, "field name 'x\\ud800': not valid Unicode: lone surrogate \\ud800 at "
                      "character 2"),
])
def test_context_validation_messages(data: dict[str, object], message: str) -> None:
    with pytest.raises(ContextError) as info:
        build_context(data)
    assert info.value.message == message


@pytest.mark.parametrize("key, hint", [
    ("chanel", " (did you mean 'channel'?)"),
    ("Channel", " (did you mean 'channel'?)"),
    ("agnet", " (did you mean 'agent'?)"),
    ("custmer", " (did you mean 'customer'?)"),
    ("disabled", " (did you mean 'disable'?)"),
    ("replylnt", " (did you mean 'replylint'?)"),
    ("replylint.disable", " (did you mean `replylint: {disable: ...}`?)"),
    ("channel", None), ("customer_id", None), ("agent-name", None), ("brand", None),
    ("order_id", None), ("tier", None), ("sentiment", None), ("name", None),
])
def test_only_near_misses_of_context_keys_are_warned_about(key: str, hint: str | None) -> None:
    assert _near_miss(key) == hint


def test_front_matter_records_where_each_disabled_rule_was_written(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("---\nchanel: x\nreplylint:\n  disable:\n    - a\n    - b\n---\nHi\n")
    (item,) = read(path)
    assert item.warnings == (f"{path}:2: warning: front matter key 'chanel' is not a context "
                             f"field (did you mean 'channel'?); it is only a message "
                             f"placeholder",)
    assert item.disable_at == (("a", "replylint.disable", f"{path}:5"),
                               ("b", "replylint.disable", f"{path}:6"))
    path.write_text("---\ndisable: a, b\n---\nHi\n")
    (item,) = read(path)
    assert (item.warnings, item.disable_at) == ((), (("a", "disable", f"{path}:2"),
                                                     ("b", "disable", f"{path}:2")))


# --------------------------------------------------------------------------- fixes


@pytest.mark.parametrize("fixes, expected, applied", [
    ([[Edit(5, 5, " ^MS")]], "Hello ^MS", (0,)),
    ([[Edit(0, 5, "Hi")], [Edit(5, 5, "!")]], "Hi!", (0, 1)),
    ([[Edit(0, 5, "Hi")], [Edit(3, 5, "p")]], "Hi", (0,)),
    ([[Edit(5, 5, "!")], [Edit(5, 5, "?")]], "Hello!", (0,)),
    ([[Edit(1, 2, "E"), Edit(3, 4, "L")], [Edit(3, 5, "xx")]], "HElLo", (0,)),
    ([[Edit(3, 5, "xx")], [Edit(1, 2, "E"), Edit(3, 4, "L")]], "Helxx", (0,)),
    ([None, [], [Edit(0, 9, "oob")], [Edit(4, 2, "bad")], [Edit(0, 1, "J")]], "Jello", (4,)),
    ([[Edit(0, 2, "A"), Edit(1, 3, "B")]], "Hello", ()),
])
def test_apply_fixes_takes_whole_non_overlapping_fixes_in_order(
        fixes: list[list[Edit] | None], expected: str, applied: tuple[int, ...]) -> None:
    assert apply_fixes("Hello", fixes) == (expected, applied)


def test_rewrite_draft_keeps_front_matter_bom_and_mode(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"\xef\xbb\xbf---\nagent: MS\n---\nSorry!\n")
    path.chmod(0o640)
    (item,) = read(path)
    rewrite_draft(item, "Sorry! ^MS\n")
    assert path.read_bytes() == b"\xef\xbb\xbf---\nagent: MS\n---\nSorry! ^MS\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_rewrite_draft_refuses_a_file_changed_since_it_was_read(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Sorry!")
    (item,) = read(path)
    path.write_text("Sorry, edited by a human")
    with pytest.raises(InputError) as info:
        rewrite_draft(item, "Sorry! ^MS")
    assert str(info.value) == f"{path}: not fixed: the file changed while it was being checked"
    assert path.read_text() == "Sorry, edited by a human"
