"""Reading replies: draft files with front matter, JSONL/CSV archives (plain or gzip), stdin.

Everything streams, one item at a time and in input order, so a multi-gigabyte archive is checked
in constant memory. A bad input becomes an `Item` carrying an `InputError`, never an exception,
so the rest of a batch is still checked.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import gzip
import io
import json
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, cast

from .errors import InputError
from .model import Context, Edit
from .options import found
from .yamlsource import load_yaml

MAX_FILE_BYTES = 10_000_000
"""A draft file (or stdin draft) larger than this is rejected unread: no reply is 10 MB."""
MAX_LINE_CHARS = 1_000_000
"""A longer line in a draft, or a longer record text, is rejected rather than checked."""
_TOO_LONG = f"line is longer than the {MAX_LINE_CHARS:,}-character limit"

DRAFT_SUFFIXES = (".txt", ".md")
ARCHIVE_SUFFIXES = (".jsonl", ".csv")
WALKED_SUFFIXES = tuple(s + gz for s in DRAFT_SUFFIXES + ARCHIVE_SUFFIXES for gz in ("", ".gz"))

_BOM = codecs.BOM_UTF8
_BOOL_WORDS = {"true": True, "yes": True, "on": True, "1": True,
               "false": False, "no": False, "off": False, "0": False}
_SCALAR_CONTEXT = ("channel", "agent", "customer")
CONTEXT_KEYS = ("channel", "agent", "customer", "public", "replylint", "disable", "reason")
"""The keys front matter and records set context with; any other key is a message placeholder."""
_SURROGATE = re.compile("[\ud800-\udfff]")
"""A lone surrogate: what a JSON or YAML `\\ud800` escape without its pair, or a byte that is not
UTF-8 read with `surrogateescape`, leaves in a `str`. It is not Unicode text and cannot be printed
or encoded, so a value holding one is an input error."""

Format = Literal["text", "jsonl", "csv"]


@dataclass(frozen=True)
class ReadOptions:
    """How to read inputs: record field names, the format of stdin, and default context.

    `context` holds the command line's `--channel`/`--agent`/`--customer`; a draft's front matter
    or a record's own fields win over them key by key.
    """

    text_field: str = "text"
    id_field: str = "id"
    stdin_format: Format = "text"
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Item:
    """One reply to check, or the reason it cannot be checked (`error`).

    For drafts, `text` is the reply body only: the front matter (kept verbatim in `header`) is
    context, never part of the reply. `body_offset` is the character offset of the body in the
    file and `body_line` the file line where it starts, so a violation on line L of the body is
    on line `body_line + L - 1` of the file. For archive records `body_line` is the record's line.

    `kind` is `draft`, `record` (one line or row of an archive, readable or not; its `id` is the
    record's id, or `line N` when it has none that can be read) or `file` (an error about a
    whole archive or directory: unreadable, empty, no text column, corrupt gzip).
    """

    source: str
    id: str
    text: str
    context: Context
    error: InputError | None = None
    body_offset: int = 0
    body_line: int = 1
    kind: Literal["draft", "record", "file"] = "draft"
    header: str = ""
    warnings: tuple[str, ...] = ()
    """Lines to print as they are (`a.md:2: warning: ...`): mistakes that do not stop the check."""
    disable_at: tuple[tuple[str, str, str], ...] = ()
    """Where each rule id of `context.disable` was written: (rule id, key as written, such as
    `replylint.disable`, and `file:line` or `file:line (record id)`), for warnings about it."""

    def file_line(self, line: int) -> int:
        """The file line of a body line; for a record, the record's line in the archive."""
        return self.body_line + line - 1 if self.kind == "draft" else self.body_line


class ContextError(ValueError):
    """A context field of the wrong shape; `path` points at it for the error's line number."""

    def __init__(self, message: str, path: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


# --------------------------------------------------------------------------- entry points


def iter_items(paths: Sequence[str], options: ReadOptions = ReadOptions(),
               stdin: IO[bytes] | None = None) -> Iterator[Item]:
    """Every reply of the given paths (`-` is stdin), in order: directories recursively sorted."""
    for shown in paths:
        if shown == "-":
            if stdin is None:
                import sys

                stdin = sys.stdin.buffer
            yield from read_stream(stdin, "-", options.stdin_format, options)
        else:
            yield from _read_path(Path(shown), shown, options, explicit=True)


def read_stream(stream: IO[bytes], source: str, fmt: Format,
                options: ReadOptions) -> Iterator[Item]:
    """Items from a binary stream: one draft (`text`), or the records of a JSONL/CSV archive."""
    if fmt == "jsonl":
        yield from _guard_stream(_read_jsonl(stream, source, options), source)
    elif fmt == "csv":
        yield from _guard_stream(_read_csv(stream, source, options), source)
    else:
        raw = stream.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            yield _failed(source, _too_large(len(raw), more=True))
        else:
            yield parse_draft(raw, source, options)


def parse_draft(raw: bytes, source: str, options: ReadOptions = ReadOptions()) -> Item:
    """One draft from the bytes of a file: check the encoding and limits, split the front matter."""
    if not raw:
        return _failed(source, "empty file")
    if b"\x00" in raw:
        return _failed(source, "binary file (contains NUL bytes), not a reply")
    bom = len(_BOM) if raw.startswith(_BOM) else 0
    long = _long_line(raw)
    if long is not None:
        return _failed(source, f"line is longer than the {MAX_LINE_CHARS:,}-character limit",
                       line=long)
    try:
        text = raw[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = bom + exc.start
        return _failed(source, f"not UTF-8: invalid byte 0x{raw[offset]:02x} at byte offset "
                               f"{offset}", line=_line_at(raw, offset))
    return _split_draft(text, source, options)


# --------------------------------------------------------------------------- files and directories


def _read_path(path: Path, shown: str, options: ReadOptions, explicit: bool) -> Iterator[Item]:
    whole: Literal["draft", "file"] = "file" if archive_kind(path.name) else "draft"
    try:
        info = path.stat()
    except FileNotFoundError:
        yield _failed(shown, "no such file or directory", kind=whole)
        return
    except PermissionError:
        yield _failed(shown, "permission denied", kind=whole)
        return
    except OSError as exc:
        yield _failed(shown, f"cannot read: {exc.strerror or exc}", kind=whole)
        return
    if stat.S_ISDIR(info.st_mode):
        yield from _walk(path, shown, options)
        return
    kind = archive_kind(path.name)
    if kind is not None:
        yield from _read_archive(path, shown, kind, options)
    elif explicit or path.name.lower().endswith(WALKED_SUFFIXES):
        yield _read_draft_file(path, shown, info.st_size, options)


def _walk(directory: Path, shown: str, options: ReadOptions) -> Iterator[Item]:
    """Sorted, recursive, skipping hidden entries and not following directory symlinks."""
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except PermissionError:
        yield _failed(shown, "cannot list directory: permission denied", kind="file")
        return
    except OSError as exc:
        yield _failed(shown, f"cannot list directory: {exc.strerror or exc}", kind="file")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        child = os.path.join(shown, entry.name)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = not is_dir and entry.is_file()
        except OSError:
            continue
        if is_dir:
            yield from _walk(Path(entry.path), child, options)
        elif is_file and entry.name.lower().endswith(WALKED_SUFFIXES):
            yield from _read_path(Path(entry.path), child, options, explicit=False)


def archive_kind(name: str) -> Format | None:
    """`jsonl` or `csv` for archive file names (optionally gzipped), None for drafts."""
    lower = name.lower().removesuffix(".gz")
    if lower.endswith(".jsonl"):
        return "jsonl"
    if lower.endswith(".csv"):
        return "csv"
    return None


def _read_draft_file(path: Path, shown: str, size: int, options: ReadOptions) -> Item:
    gz = path.name.lower().endswith(".gz")
    if size > MAX_FILE_BYTES and not gz:
        return _failed(shown, _too_large(size))
    try:
        opener = gzip.open if gz else open
        with opener(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except PermissionError:
        return _failed(shown, "permission denied")
    except (OSError, EOFError, zlib.error) as exc:
        what = "not a valid gzip file" if gz else "cannot read"
        return _failed(shown, f"{what}: {getattr(exc, 'strerror', None) or exc}")
    if len(raw) > MAX_FILE_BYTES:
        return _failed(shown, _too_large(len(raw), more=True))
    return parse_draft(raw, shown, options)


def _read_archive(path: Path, shown: str, kind: Format, options: ReadOptions) -> Iterator[Item]:
    gz = path.name.lower().endswith(".gz")
    try:
        stream = cast(IO[bytes], gzip.open(path, "rb") if gz else open(path, "rb"))
    except PermissionError:
        yield _failed(shown, "permission denied", kind="file")
        return
    except OSError as exc:
        yield _failed(shown, f"cannot read: {exc.strerror or exc}", kind="file")
        return
    with stream:
        yield from read_stream(stream, shown, kind, options)


def _guard_stream(items: Iterator[Item], source: str) -> Iterator[Item]:
    """Turn a read failure in the middle of an archive (corrupt gzip, I/O) into a final item."""
    last_line = 0
    try:
        for item in items:
            last_line = item.body_line
            yield item
    except (OSError, EOFError, zlib.error) as exc:
        gz = isinstance(exc, (gzip.BadGzipFile, EOFError, zlib.error))
        what = "gzip data is corrupt or truncated" if gz else "read error"
        yield _failed(source, f"{what}: {exc}; the rest of the file was not checked",
                      line=last_line + 1 if last_line else None, kind="file")


# --------------------------------------------------------------------------- drafts


def _split_draft(text: str, source: str, options: ReadOptions) -> Item:
    meta_text, body_offset, body_line = _front_matter(text)
    if meta_text is None and body_offset < 0:
        return _failed(source, "front matter: no closing '---' line", line=1)
    body = text[body_offset:]
    if not body.strip():
        if meta_text is not None:
            return _failed(source, "empty reply after front matter", line=body_line)
        return _failed(source, "empty reply (only whitespace)")
    data: Mapping[str, Any] = {}
    if meta_text is not None:
        meta, issues = load_yaml(meta_text, source)
        if issues:
            first = issues[0]
            line = first.line + 1 if first.line is not None else 2
            return _failed(source, f"front matter: {first.message}", line=line)
        if meta.data is not None and not isinstance(meta.data, dict):
            return _failed(source, f"front matter: expected a mapping of context fields "
                                   f"(channel, agent, customer, public, replylint), "
                                   f"found {found(meta.data)}", line=2)
        data = meta.data or {}
        try:
            context = build_context(data, options.context)
        except ContextError as exc:
            where, _ = meta.where(exc.path)
            return _failed(source, f"front matter: {exc.message}",
                           line=where + 1 if where is not None else 2)

        def file_line(path: tuple[str | int, ...], key: bool = False) -> int:
            line, _ = meta.where(path, key=key)
            return line + 1 if line is not None else 2  # YAML line 1 is the file's line 2

        warnings = tuple(f"{source}:{file_line((key,), key=True)}: warning: front matter key "
                         f"{key!r} is not a context field{hint}; it is only a message "
                         f"placeholder" for key in data if (hint := _near_miss(str(key))))
        path = _disable_path(data)
        disable_at: tuple[tuple[str, str, str], ...] = ()
        if path is not None:
            value = data[path[0]] if len(path) == 1 else data[path[0]][path[1]]
            places = ([f"{source}:{file_line(path + (i,))}" for i in range(len(value))]
                      if isinstance(value, list)
                      else [f"{source}:{file_line(path)}"] * len(context.disable))
            disable_at = tuple((rule_id, ".".join(path), where)
                               for rule_id, where in zip(context.disable, places, strict=True))
    else:
        context = build_context({}, options.context)
        warnings, disable_at = (), ()
    return Item(source, source, body, context, body_offset=body_offset, body_line=body_line,
                kind="draft", header=text[:body_offset], warnings=warnings,
                disable_at=disable_at)


def _near_miss(key: str) -> str | None:
    """` (did you mean 'channel'?)` for a key that looks like a mistyped context key, else None.

    Other keys are legitimate: they become message placeholders (`{brand}`, `{order_id}`), so a
    key made of a context key and more words (`customer_id`, `agent-name`) is left alone.
    """
    if key in CONTEXT_KEYS:
        return None
    folded = key.casefold()
    head, dot, rest = folded.partition(".")
    if dot and head == "replylint" and rest in ("disable", "reason"):
        return f" (did you mean `replylint: {{{rest}: ...}}`?)"
    words = [word for word in re.split(r"[_\- ]+", folded) if word]
    if len(words) > 1 and any(word in CONTEXT_KEYS for word in words):
        return None
    close = difflib.get_close_matches(folded, CONTEXT_KEYS, n=1, cutoff=0.8)
    return f" (did you mean {close[0]!r}?)" if close else None


def _disable_path(data: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The key whose rule ids `build_context` took for `disable` (the last one written)."""
    path: tuple[str, ...] | None = None
    for key, value in data.items():
        if key == "replylint" and isinstance(value, dict) and value.get("disable") is not None:
            path = ("replylint", "disable")
        elif key == "disable" and value is not None:
            path = ("disable",)
    return path


def _front_matter(text: str) -> tuple[str | None, int, int]:
    """(front matter YAML or None, body offset, body line); offset -1 when it is never closed."""
    first_end = text.find("\n")
    if first_end < 0 or text[:first_end].rstrip() != "---":
        return None, 0, 1
    pos = first_end + 1
    line = 2
    while pos <= len(text):
        end = text.find("\n", pos)
        stop = len(text) if end < 0 else end
        if text[pos:stop].rstrip() == "---":
            body = len(text) if end < 0 else end + 1
            return text[first_end + 1:pos], body, line + 1
        if end < 0:
            break
        pos = end + 1
        line += 1
    return None, -1, 1


def build_context(data: Mapping[str, Any], defaults: Mapping[str, Any] | None = None, *,
                  check_unicode: bool = True) -> Context:
    """A validated `Context` from front matter or record fields over command-line defaults.

    Stricter than `Context.from_mapping`: a mistyped suppression must fail loudly rather than
    silently suppress nothing (or everything).
    """
    merged: dict[str, Any] = dict(defaults or {})
    for key, value in data.items():
        if check_unicode:
            _check_unicode(key, value)
        if value is None:
            continue
        if key in _SCALAR_CONTEXT:
            if isinstance(value, (dict, list, bool)):
                raise ContextError(f"{key}: expected text, found {found(value)}", (key,))
            merged[key] = str(value)
        elif key == "public":
            merged[key] = _as_bool(value, (key,))
        elif key == "replylint":
            if not isinstance(value, dict):
                raise ContextError(f"replylint: expected a mapping with `disable` and `reason`, "
                                   f"found {found(value)}", (key,))
            for sub in value:
                if sub not in ("disable", "reason"):
                    raise ContextError(f"replylint: unknown key {sub!r} (allowed: disable, "
                                       f"reason)", (key, sub))
            if "disable" in value:
                merged["disable"] = _rule_ids(value["disable"], (key, "disable"))
            if "reason" in value:
                merged["reason"] = _text(value["reason"], (key, "reason"))
        elif key == "disable":
            merged["disable"] = _rule_ids(value, (key,))
        elif key == "reason":
            merged["reason"] = _text(value, (key,))
        elif not isinstance(value, (dict, list)):
            merged[key] = value
    return Context.from_mapping(merged)


def _check_unicode(key: Any, value: Any) -> None:
    """Raise `ContextError` for a lone surrogate in a context key or in a value that is used."""
    if isinstance(key, str) and (problem := not_unicode(key)):
        raise ContextError(f"field name {key!r}: {problem}", (key,))
    path: tuple[str | int, ...] = (key,)
    values: list[tuple[tuple[str | int, ...], Any]] = [(path, value)]
    if key in ("replylint", "disable"):  # the only nested values a context reads
        if isinstance(value, dict):
            values += [((key, k), v) for k, v in value.items()]
        values += [(p + (i,), v) for p, vs in list(values) if isinstance(vs, list)
                   for i, v in enumerate(vs)]
    for where, item in values:
        if isinstance(item, str) and (problem := not_unicode(item)):
            name = shown(".".join(str(p) for p in where if isinstance(p, str)))
            raise ContextError(f"{name}: {problem}", where)


def not_unicode(text: str) -> str | None:
    """Why `text` is not Unicode text (a lone surrogate, 1-based position), or None."""
    found_at = _SURROGATE.search(text)
    if found_at is None:
        return None
    return (f"not valid Unicode: lone surrogate \\u{ord(found_at.group()):04x} at character "
            f"{found_at.start() + 1}")


def shown(text: str) -> str:
    """`text` safe to print: lone surrogates written as `\\udcff` escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _as_bool(value: Any, path: tuple[str | int, ...]) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (str, int)) and str(value).strip().lower() in _BOOL_WORDS:
        return _BOOL_WORDS[str(value).strip().lower()]
    raise ContextError(f"{path[-1]}: expected true or false, found {found(value)}", path)


def _rule_ids(value: Any, path: tuple[str | int, ...]) -> list[str]:
    name = ".".join(str(p) for p in path)
    if isinstance(value, str):
        ids = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        ids = [v.strip() for v in value]
    else:
        raise ContextError(f"{name}: expected a list of rule ids, found {found(value)}", path)
    if not ids:
        raise ContextError(f"{name}: expected at least one rule id", path)
    return ids


def _text(value: Any, path: tuple[str | int, ...]) -> str:
    if isinstance(value, (dict, list)):
        raise ContextError(f"{'.'.join(str(p) for p in path)}: expected text, "
                           f"found {found(value)}", path)
    return str(value)


# --------------------------------------------------------------------------- archives


def _read_jsonl(stream: IO[bytes], source: str, options: ReadOptions) -> Iterator[Item]:
    for lineno, raw in _bounded_lines(stream):
        if raw is None:
            yield _jsonl_failed(source, lineno, _TOO_LONG)
            continue
        if lineno == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield _jsonl_failed(source, lineno, f"not UTF-8: invalid byte 0x{raw[exc.start]:02x} "
                                               f"at byte offset {exc.start} of the line")
            continue
        if len(line.rstrip("\r\n")) > MAX_LINE_CHARS:
            yield _jsonl_failed(source, lineno, _TOO_LONG)
            continue
        try:
            data = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            yield _jsonl_failed(source, lineno, f"not valid JSON: {exc.msg} (column {exc.colno})")
            continue
        except RecursionError:
            yield _jsonl_failed(source, lineno, "not valid JSON: nested too deeply")
            continue
        if not isinstance(data, dict):
            yield _jsonl_failed(source, lineno, f"expected a JSON object, found {found(data)}")
            continue
        # Only a `\u` escape can put a lone surrogate in what json.loads returns.
        yield _record(data, source, lineno, options, from_csv=False,
                      check_unicode="\\u" in line)


def _jsonl_failed(source: str, lineno: int, message: str) -> Item:
    """A JSONL line that is not a JSON object (or not readable at all) has no id of its own:
    it is `line N`, as for CSV rows and records without an id."""
    return _line_failed(source, lineno, message)


def _bounded_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """Lines of a binary stream; a line too long to be a reply is skipped unread (None)."""
    limit = MAX_LINE_CHARS * 4 + 2  # a character is at most 4 bytes of UTF-8
    lineno = 0
    while True:
        line = stream.readline(limit)
        if not line:
            return
        lineno += 1
        if len(line) >= limit and not line.endswith(b"\n"):
            while True:
                more = stream.readline(limit)
                if not more or more.endswith(b"\n"):
                    break
            yield lineno, None
        else:
            yield lineno, line


def _read_csv(stream: IO[bytes], source: str, options: ReadOptions) -> Iterator[Item]:
    if csv.field_size_limit() < MAX_LINE_CHARS + 1:
        csv.field_size_limit(MAX_LINE_CHARS + 1)
    # Bytes that are not UTF-8 become lone surrogates (\udc80-\udcff) rather than stop the
    # reader, so such a row is one input error and the rows after it are still read.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    lines = _Lines(text)
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        yield _failed(source, f"malformed CSV header: {exc}", line=1, kind="file")
        return
    if header is None:
        yield _failed(source, "empty file", kind="file")
        return
    if lines.unterminated():
        yield _failed(source, f"malformed CSV header: {_UNTERMINATED}", line=1, kind="file")
        return
    bad = _not_utf8(header)
    if bad:
        yield _failed(source, f"not UTF-8: {bad} in the header", line=1, kind="file")
        return
    header = [h.strip() for h in header]
    if options.text_field not in header:
        yield _failed(source, f"no {options.text_field!r} column (columns: {_listing(header)}); "
                              f"use --text-field", line=1, kind="file")
        return
    start = reader.line_num + 1
    while True:
        lineno = start
        lines.taken.clear()
        try:
            row = next(reader, None)
        except csv.Error as exc:
            start = reader.line_num + 1
            yield _line_failed(source, lineno, f"malformed CSV: {exc}")
            continue
        if row is None:
            return
        start = reader.line_num + 1
        if lines.unterminated():
            yield _line_failed(source, lineno, f"malformed CSV: {_UNTERMINATED}",
                               _row_id(header, row, options))
            return
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield _line_failed(source, lineno, f"expected {len(header)} columns, found "
                                               f"{len(row)}", _row_id(header, row, options))
            continue
        data = dict(zip(header, row, strict=True))
        bad = _not_utf8(row)
        if bad:
            column = next(h for h, cell in data.items() if _SURROGATE.search(cell))
            yield _record(data, source, lineno, options, from_csv=True,
                          error=f"not UTF-8: {bad} in column {column!r}")
            continue
        yield _record(data, source, lineno, options, from_csv=True)


_UNTERMINATED = ("unterminated quoted field (a '\"' opened in this row is never closed; the rest of "
                 "the file was not checked)")
_QUOTED_FIELD = re.compile(r'"(?:[^"]|"")*+"')
_FIELD_END = re.compile(r"[,\r\n]")


class _Lines:
    """The lines a csv reader takes, one line ahead, so that the row which took the last line
    of the file can be checked for a quote that is never closed (the csv module, not strict,
    quietly ends such a field at the end of the file)."""

    def __init__(self, text: Iterable[str]) -> None:
        self._lines = iter(text)
        self._next: str | None = next(self._lines, None)
        self.taken: list[str] = []
        self.at_end = self._next is None

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self._next
        if line is None:
            raise StopIteration
        self._next = next(self._lines, None)
        self.at_end = self._next is None
        self.taken.append(line)
        return line

    def unterminated(self) -> bool:
        """Whether the row just read took the last line inside an open quoted field."""
        return self.at_end and any('"' in line for line in self.taken) and \
            _open_quote("".join(self.taken))


def _open_quote(raw: str) -> bool:
    """Whether one CSV row (its raw text) ends inside a quoted field, read as the csv module
    reads it when not strict: a quote opens a field only at its start, `""` inside is a quote,
    and text after the closing quote belongs to the field."""
    pos = 0
    while True:
        if raw.startswith('"', pos):
            closed = _QUOTED_FIELD.match(raw, pos)
            if closed is None:
                return True
            pos = closed.end()
        end = _FIELD_END.search(raw, pos)
        if end is None or end.group() != ",":
            return False
        pos = end.end()


def _not_utf8(cells: list[str]) -> str | None:
    """`invalid byte 0xe9` for the first byte that `surrogateescape` kept in the cells, or None."""
    for cell in cells:
        found_at = _SURROGATE.search(cell)
        if found_at is not None:
            return f"invalid byte 0x{ord(found_at.group()) - 0xdc00:02x}"
    return None


def _record(data: dict[str, Any], source: str, lineno: int, options: ReadOptions,
            from_csv: bool, error: str | None = None, check_unicode: bool = False) -> Item:
    """One record as an item; `error` makes it an input error (its id is still used if valid).

    `check_unicode`: look for lone surrogates (CSV rows were checked for them as they were read).
    """
    tf, idf = options.text_field, options.id_field
    raw_id = data.get(idf)
    has_id = raw_id not in (None, "") and not isinstance(raw_id, (dict, list))
    bad_id = not_unicode(raw_id) if check_unicode and isinstance(raw_id, str) else None
    rid = str(raw_id) if has_id and not bad_id else f"line {lineno}"
    record = rid if has_id and not bad_id else None

    def failed(message: str) -> Item:
        return _line_failed(source, lineno, message, record)

    if error is not None:
        return failed(error)
    if bad_id:
        return failed(f"{idf!r} is {bad_id}")
    bad_key = next((k for k in data if not_unicode(k)), None) if check_unicode else None
    if bad_key is not None:
        return failed(f"field name {bad_key!r} is {not_unicode(bad_key)}")
    if tf not in data:
        return failed(f"no {tf!r} field (fields: {_listing(list(data))}); use --text-field")
    text = data[tf]
    if not isinstance(text, str):
        return failed(f"{tf!r} must be text, found {found(text)}")
    if not text.strip():
        return failed(f"empty {tf!r}")
    bad_text = not_unicode(text) if check_unicode else None
    if bad_text:
        return failed(f"{tf!r} is {bad_text}")
    if len(text) > MAX_LINE_CHARS:
        return failed(f"{tf!r} is longer than the {MAX_LINE_CHARS:,}-character limit")
    fields = {k: v for k, v in data.items()
              if k not in (tf, idf) and not (from_csv and isinstance(v, str) and not v.strip())}
    try:
        context = build_context(fields, options.context, check_unicode=check_unicode)
    except ContextError as exc:
        return failed(exc.message)
    disable_at: tuple[tuple[str, str, str], ...] = ()
    if context.disable:
        path = _disable_path(fields)
        where = f"{source}:{lineno}" + (f" (record {record})" if record else "")
        key = ".".join(path) if path else "disable"
        disable_at = tuple((rule_id, key, where) for rule_id in context.disable)
    return Item(source, rid, text, context, body_line=lineno, kind="record",
                disable_at=disable_at)


# --------------------------------------------------------------------------- fixes


def apply_fixes(text: str, fixes: Iterable[Sequence[Edit] | None]) -> tuple[str, tuple[int, ...]]:
    """Apply whole fixes in order, skipping any that overlaps an edit already taken.

    Returns the new text and the indexes of the fixes applied. A fix's edits go in together or
    not at all, so a half-applied fix never corrupts the reply.
    """
    taken: list[Edit] = []
    applied: list[int] = []
    for index, fix in enumerate(fixes):
        if not fix:
            continue
        edits = sorted(fix, key=lambda e: (e.start, e.end))
        if any(e.start < 0 or e.end > len(text) or e.start > e.end for e in edits):
            continue
        if any(_overlap(a, b) for i, a in enumerate(edits) for b in edits[i + 1:]):
            continue
        if any(_overlap(e, t) for e in edits for t in taken):
            continue
        taken.extend(edits)
        applied.append(index)
    taken.sort(key=lambda e: (e.start, e.end))
    out: list[str] = []
    pos = 0
    for edit in taken:
        out.append(text[pos:edit.start])
        out.append(edit.replacement)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out), tuple(applied)


def _overlap(a: Edit, b: Edit) -> bool:
    if a.start == a.end == b.start == b.end:
        return True  # two insertions at one point: their order would be a guess
    return a.start < b.end and b.start < a.end


def fixable(item: Item) -> bool:
    """Only draft files on disk are rewritten: never records, stdin or compressed files."""
    return (item.kind == "draft" and item.error is None and item.source != "-"
            and not item.source.lower().endswith(".gz"))


def fix_hint(item: Item) -> str:
    """How a safe fix in `item` can be applied, naming only the options that work for it."""
    if item.kind != "draft":
        return "archive records are never rewritten"
    if item.source != "-" and not fixable(item):
        return "--diff; compressed drafts are never rewritten"
    return "--fix or --diff"


def rewrite_draft(item: Item, new_body: str) -> None:
    """Write a fixed reply back to its file, keeping the front matter and any BOM.

    Raises `InputError` if the file changed since it was read, rather than overwrite the change.
    """
    path = Path(item.source)
    try:
        raw = path.read_bytes()
        bom = _BOM if raw.startswith(_BOM) else b""
        current = raw[len(bom):].decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(item.source, f"not fixed: cannot re-read the file ({exc})") from exc
    if current != item.header + item.text:
        raise InputError(item.source, "not fixed: the file changed while it was being checked")
    tmp = path.with_name(f".{path.name}.replylint-fix")
    try:
        tmp.write_bytes(bom + (item.header + new_body).encode("utf-8"))
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(item.source, f"not fixed: cannot write ({exc.strerror or exc})") from exc


# --------------------------------------------------------------------------- helpers


def _failed(source: str, message: str, line: int | None = None,
            kind: Literal["draft", "file"] = "draft") -> Item:
    """A draft, or a whole file (an archive, a directory), that could not be read."""
    return Item(source, source, "", Context(), InputError(source, message, line=line),
                body_line=line or 1, kind=kind)


def _line_failed(source: str, lineno: int, message: str, rid: str | None = None,
                 shown_id: str | None = None) -> Item:
    """A record of an archive that could not be read: its id if it has one, else `shown_id`,
    else `line N` as for a readable record without an id."""
    return Item(source, rid or shown_id or f"line {lineno}", "", Context(),
                InputError(source, message, record=rid, line=lineno), body_line=lineno,
                kind="record")


def _row_id(header: list[str], row: list[str], options: ReadOptions) -> str | None:
    """The id cell of a CSV row that cannot be a record, when there is a readable one."""
    try:
        cell = row[header.index(options.id_field)].strip()
    except (ValueError, IndexError):
        return None
    return cell if cell and not _SURROGATE.search(cell) else None


def _too_large(size: int, more: bool = False) -> str:
    shown = f"more than {MAX_FILE_BYTES:,}" if more else f"{size:,}"
    return f"file is larger than the {MAX_FILE_BYTES // 1_000_000} MB limit ({shown} bytes)"


def _long_line(raw: bytes) -> int | None:
    """The first line with more than MAX_LINE_CHARS characters, found without decoding it all."""
    if len(raw) <= MAX_LINE_CHARS:
        return None
    lines = raw.splitlines()
    if max(map(len, lines)) <= MAX_LINE_CHARS:
        return None
    for index, line in enumerate(lines):
        if len(line) > MAX_LINE_CHARS and len(line.decode("utf-8", "replace")) > MAX_LINE_CHARS:
            return index + 1
    return None


def _line_at(raw: bytes, offset: int) -> int:
    """1-based line of a byte offset, counting LF, CRLF and lone CR as the text index does."""
    return (raw.count(b"\n", 0, offset) + raw.count(b"\r", 0, offset)
            - raw.count(b"\r\n", 0, offset) + 1)


def _listing(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit]) if names else "none"
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
