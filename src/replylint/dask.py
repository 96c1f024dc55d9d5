"""Lint a Dask DataFrame of replies on a cluster: one compiled policy per worker, no copies.

    import dask.dataframe as dd
    from distributed import Client
    from replylint.dask import lint_dataframe

    client = Client("tcp://scheduler:8786")          # an existing cluster (or LocalCluster())
    replies = dd.read_parquet("s3://archive/replies/")  # or read_replies("replies/*.jsonl")
    violations = lint_dataframe(replies, policy="policy.yaml", context=["brand", "agent"])
    violations.to_parquet("s3://archive/violations/")   # or .compute() for a pandas frame

The policy is compiled once, on the client (so a broken policy fails before any work is sent,
with its file:line:column), and travels to the cluster as one task every partition depends on:
each worker receives and unpickles it once and keeps it for all its partitions. Workers need
`replylint` installed (same version as the client), not the policy files.

`check_dataset` is the engine of `replylint check --engine dask --scheduler ADDRESS PATH...`:
it reads JSONL, CSV (gzip too) and Parquet files, lints them on the cluster, and writes one
JSON line per reply, in input order, as `--format jsonl` does.

Needs the `dask` extra: `pip install "replylint[dask]"` (dask[dataframe], distributed, pyarrow).
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TextIO, cast

from .config import Selection
from .inputs import MAX_LINE_CHARS, ContextError, build_context
from .linter import Linter, PolicySpec
from .model import Context, Severity
from .options import found

if TYPE_CHECKING:  # pragma: no cover
    import dask.dataframe as dd
    import pandas as pd  # type: ignore[import-untyped]
    from dask.delayed import Delayed
    from distributed import Client

COLUMNS = ("id", "rule", "severity", "start", "end", "line", "column", "matched", "message")
"""The violations frame: one row per violation, `id` naming the reply it was found in."""
CONTEXT_FIELDS = ("channel", "agent", "customer", "public")


def _require_dask() -> None:
    try:
        import dask.dataframe  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('replylint.dask needs Dask: pip install "replylint[dask]"') from exc


def meta() -> pd.DataFrame:
    """An empty violations frame with the column types (Dask's `meta`)."""
    import pandas as pd

    return pd.DataFrame(
        {
            "id": pd.Series([], dtype=object),
            "rule": pd.Series([], dtype=object),
            "severity": pd.Series([], dtype=object),
            "start": pd.Series([], dtype="int64"),
            "end": pd.Series([], dtype="int64"),
            "line": pd.Series([], dtype="int64"),
            "column": pd.Series([], dtype="int64"),
            "matched": pd.Series([], dtype=object),
            "message": pd.Series([], dtype=object),
        }
    )


def lint_partition(
    frame: pd.DataFrame,
    linter: Linter,
    text: str = "text",
    id: str | None = "id",
    context: Sequence[str] = (),
) -> pd.DataFrame:
    """The violations of one pandas partition (also usable on a plain pandas DataFrame).

    Rows whose text is missing or blank are skipped; context columns with missing values
    (None, NaN) are left out of that reply's context.
    """
    import pandas as pd

    texts = frame[text].tolist()
    ids = frame[id].tolist() if id is not None else frame.index.tolist()
    columns = {name: frame[name].tolist() for name in context}
    rows: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for i, reply in enumerate(texts):
        if not isinstance(reply, str) or not reply.strip():
            continue
        fields = {name: values[i] for name, values in columns.items() if not _missing(values[i])}
        report = linter.check(reply, Context.from_mapping(fields) if fields else None)
        for v in report.violations:
            rows["id"].append(str(ids[i]))
            rows["rule"].append(v.rule)
            rows["severity"].append(v.severity.value)
            rows["start"].append(v.start)
            rows["end"].append(v.end)
            rows["line"].append(v.line)
            rows["column"].append(v.column)
            rows["matched"].append(v.matched)
            rows["message"].append(v.message)
    out = pd.DataFrame(rows, columns=list(COLUMNS))
    return out.astype(meta().dtypes.to_dict())


def _missing(value: Any) -> bool:
    """None, NaN, or pandas' NA (what a missing string is in pandas 3)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def lint_dataframe(
    frame: dd.DataFrame,
    policy: PolicySpec | Linter = None,
    *,
    text: str = "text",
    id: str | None = "id",
    context: Sequence[str] | None = None,
    redact: bool = True,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
) -> dd.DataFrame:
    """A lazy Dask DataFrame of the violations in column `text` of `frame`.

    `policy` is what `replylint.check` takes (a path, `pack:NAME`, a mapping, a compiled
    `Policy`) or a ready `Linter`. `context` names the columns passed to each reply as its
    context (default: whichever of channel, agent, customer, public the frame has); other
    columns (brand, created_at...) can be listed too, for `{placeholders}` in messages.
    """
    _require_dask()
    linter = (
        policy
        if isinstance(policy, Linter)
        else Linter.from_policy(policy, select=select, ignore=ignore, redact=redact)
    )
    missing = [c for c in (text, *([id] if id else [])) if c not in frame.columns]
    if missing:
        raise KeyError(f"no column {missing[0]!r} (columns: {', '.join(map(str, frame.columns))})")
    if context is None:
        context = [c for c in CONTEXT_FIELDS if c in frame.columns]
    else:
        absent = [c for c in context if c not in frame.columns]
        if absent:
            raise KeyError(f"no context column {absent[0]!r}")
    out = frame.map_partitions(  # type: ignore[no-untyped-call]
        lint_partition,
        _shipped(linter),
        text=text,
        id=id,
        context=list(context),
        meta=meta(),
        align_dataframes=False,
    )
    return cast("dd.DataFrame", out)


def _shipped(linter: Linter) -> Delayed:
    """The compiled linter as one task named by the policy's hash: each worker gets it once."""
    from dask.delayed import delayed

    token = (
        f"replylint-policy-{linter.policy.hash}-{int(linter.redact)}-"
        f"{abs(hash(tuple(r.id for r in linter.policy.rules)))}"
    )
    return cast("Delayed", delayed(linter, name=token, pure=True, traverse=False))


def read_replies(path: str, *, blocksize: str | int | None = "64MB", **kwargs: Any) -> dd.DataFrame:
    """A Dask DataFrame from a Parquet dataset, or JSONL files (`.jsonl`, `.json`, gzipped)."""
    _require_dask()
    import dask.dataframe as dd

    lowered = path.lower().rstrip("/")
    if lowered.endswith((".jsonl", ".json", ".jsonl.gz", ".json.gz", "*.jsonl")):
        compression = "gzip" if lowered.endswith(".gz") else None
        return cast(
            "dd.DataFrame",
            dd.read_json(
                path,
                lines=True,
                blocksize=None if compression else blocksize,
                compression=compression,
                **kwargs,
            ),
        )
    return cast("dd.DataFrame", dd.read_parquet(path, **kwargs))


# --------------------------------------------------------------------------- check --engine dask

SOURCE = "__replylint_source__"
"""The column `read_dataset` adds: the file each row was read from, as `check` names it."""
FORMAT = "__replylint_format__"
"""The column `read_dataset` adds: `jsonl`, `csv` or `parquet`, or `unreadable` when the
record column holds why the line could not be read."""
DATASET_SUFFIXES = {".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet"}
"""What `read_dataset` reads (`.gz` too, except Parquet, which compresses inside the file)."""


def dataset_kind(name: str) -> str | None:
    """`jsonl`, `csv` or `parquet` for a dataset file name, else None."""
    lower = name.lower()
    for suffix, kind in DATASET_SUFFIXES.items():
        if lower.endswith(suffix) or (kind != "parquet" and lower.endswith(suffix + ".gz")):
            return kind
    return None


def dataset_files(paths: Sequence[str]) -> Iterator[tuple[str, str]]:
    """`(kind, path)` of each dataset file, in the order `replylint check` reads them.

    Local directories are walked sorted and recursively, skipping hidden entries and files of
    other kinds (drafts); a remote URL (`s3://...`, globs allowed) is passed on to Dask, read
    as JSONL or CSV by its suffix, else as a Parquet dataset.
    """
    for shown in paths:
        if "://" in shown:
            yield dataset_kind(shown.rstrip("/")) or "parquet", shown
        elif os.path.isdir(shown):
            yield from _walk(shown)
        elif os.path.isfile(shown):
            kind = dataset_kind(shown)
            if kind is None:
                raise ValueError(
                    f"{shown}: not a dataset file (the dask engine reads "
                    f"{', '.join(DATASET_SUFFIXES)}, and .gz for JSONL and CSV)"
                )
            yield kind, shown
        else:
            raise FileNotFoundError(f"{shown}: no such file or directory")


def _walk(directory: str) -> Iterator[tuple[str, str]]:
    with os.scandir(directory) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        if entry.name.startswith("."):
            continue
        child = os.path.join(directory, entry.name)
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(child)
        elif entry.is_file() and (kind := dataset_kind(entry.name)) is not None:
            yield kind, child


def read_dataset(paths: Sequence[str], *, blocksize: str | int = "64MB") -> dd.DataFrame:
    """JSONL, CSV and Parquet files as a Dask DataFrame of records, in `dataset_files` order.

    Three text columns: `record`, one JSON object per row (a JSONL line as it is in the file,
    so a malformed line is reported, not fatal; a CSV or Parquet row without its missing
    values), `SOURCE`, the file as `check` names it, and `FORMAT`. Files need not share their
    fields.
    """
    _require_dask()
    import dask.dataframe as dd

    files = list(dataset_files(paths))
    if not files:
        raise FileNotFoundError(f"no JSONL, CSV or Parquet files in {', '.join(paths)}")
    frames = []
    for (kind, gz), group in itertools.groupby(files, key=lambda f: (f[0], f[1].endswith(".gz"))):
        names = [path for _, path in group]
        if kind == "jsonl":
            frames.append(_read_jsonl(names, gz, blocksize))
        else:
            frames.extend(_read_table(kind, name, gz, blocksize) for name in names)
    if len(frames) == 1:
        return frames[0]
    return cast("dd.DataFrame", dd.concat(frames))  # type: ignore[no-untyped-call]


def _records_meta() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({name: pd.Series([], dtype=str) for name in ("record", SOURCE, FORMAT)})


def _read_jsonl(names: list[str], gz: bool, blocksize: str | int) -> dd.DataFrame:
    import dask.bag as db

    # Dask names files by absolute path; `check` names them as the user wrote them.
    shown = {os.path.abspath(n): n for n in names if "://" not in n}
    lines = db.read_text(  # type: ignore[no-untyped-call]
        names,
        blocksize=None if gz else blocksize,
        compression="gzip" if gz else None,
        errors="surrogateescape",  # bytes that are not UTF-8 become an error for their line
        include_path=True,
    )
    records = lines.filter(_not_blank).map(partial(_line_record, shown))
    return cast("dd.DataFrame", records.to_dataframe(meta=_records_meta()))


def _not_blank(line_path: tuple[str, str]) -> bool:
    return bool(line_path[0].strip())


def _line_record(shown: Mapping[str, str], line_path: tuple[str, str]) -> tuple[str, str, str]:
    line, path = line_path
    line = line.rstrip("\r\n").removeprefix("\ufeff")  # a byte order mark, as `check` allows
    try:
        line.encode("utf-8")
    except UnicodeEncodeError as exc:  # an undecodable byte, kept by surrogateescape
        offset = len(line[: exc.start].encode("utf-8", "surrogateescape"))
        byte = line[exc.start].encode("utf-8", "surrogateescape")[0]
        reason = f"not UTF-8: invalid byte 0x{byte:02x} at byte offset {offset} of the line"
        return reason, shown.get(path, path), "unreadable"
    return line, shown.get(path, path), "jsonl"


def _read_table(kind: str, name: str, gz: bool, blocksize: str | int) -> dd.DataFrame:
    """One CSV file (cells as text) or Parquet file, as records; files are read one by one
    because their columns may differ."""
    import dask.dataframe as dd

    if kind == "csv":
        frame = dd.read_csv(
            name,
            dtype=str,
            keep_default_na=False,
            blocksize=None if gz else blocksize,
            compression="gzip" if gz else None,
        )
    else:
        frame = dd.read_parquet(name)
    out = frame.map_partitions(_rows_as_records, name, kind, meta=_records_meta())
    return cast("dd.DataFrame", out)


def _rows_as_records(frame: pd.DataFrame, source: str, kind: str) -> pd.DataFrame:
    """Each row as a JSON object without its missing values."""
    import pandas as pd

    records = [
        json.dumps({k: v for k, v in row.items() if not _missing(v)}, default=str)
        for row in frame.to_dict("records")
    ]
    return pd.DataFrame(
        {"record": pd.Series(records, dtype=str), SOURCE: source, FORMAT: kind},
        index=frame.index,
    )


def report_partition(
    frame: pd.DataFrame,
    linter: Linter,
    selection: Selection,
    text: str = "text",
    id: str = "id",
    defaults: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """One JSON line per record of a `read_dataset` partition, as `check --format jsonl`
    writes it, with counts.

    Columns: `json` (the line), `error`, `warning`, `info` (violations of each severity) and
    `input_error` (1 when the record could not be checked: not JSON, no text, a malformed
    context field...). Every field but the text and the id is the reply's context, as in
    `check`.
    """
    import pandas as pd

    lines: list[str] = []
    counts: dict[str, list[int]] = {name: [] for name in (*_SEVERITIES, "input_error")}
    rows = zip(frame["record"].tolist(), frame[SOURCE].tolist(), frame[FORMAT].tolist())
    for record, source, kind in rows:
        out: dict[str, Any] = {"source": source, "id": None, "kind": "record"}
        tally: Counter[str] = Counter()
        if kind == "unreadable":
            reply, context, problem = None, None, record
        else:
            reply, context, problem = _read_record(record, kind, out, text, id, defaults)
        if problem is not None or reply is None or context is None:
            out["error"] = {"message": problem}
            tally["input_error"] = 1
        else:
            report = selection.filter(linter.check(reply, context))
            out.update(
                {
                    "decision": report.decision.value,
                    "ok": report.ok,
                    "policy": report.policy,
                    "policy_hash": report.policy_hash,
                    "violations": [v.to_dict() for v in report.violations],
                    "suppressed": list(report.suppressed),
                }
            )
            tally.update(v.severity.value for v in report.violations)
        lines.append(json.dumps(out, ensure_ascii=False))
        for name, values in counts.items():
            values.append(tally[name])
    columns: dict[str, Any] = {"json": pd.Series(lines, dtype=object)}
    columns.update({name: pd.Series(values, dtype="int64") for name, values in counts.items()})
    return pd.DataFrame(columns)


def _read_record(
    record: str,
    kind: str,
    out: dict[str, Any],
    text: str,
    id: str,
    defaults: Mapping[str, Any] | None,
) -> tuple[str | None, Context | None, str | None]:
    """`(reply, context, None)`, or `(..., problem)` in the words `check` uses; sets `out["id"]`."""
    try:
        data = json.loads(record)
    except json.JSONDecodeError as exc:
        return None, None, f"not valid JSON: {exc.msg} (column {exc.colno})"
    except RecursionError:
        return None, None, "not valid JSON: nested too deeply"
    if not isinstance(data, dict):
        return None, None, f"expected a JSON object, found {found(data)}"
    raw_id = data.get(id)
    if raw_id not in (None, "") and not isinstance(raw_id, (dict, list)):
        out["id"] = str(raw_id)
    if text not in data:
        names = list(data)
        listed = ", ".join(names[:12]) + (f", ... ({len(names)} in all)" if len(names) > 12 else "")
        return None, None, f"no {text!r} field (fields: {listed or 'none'}); use --text-field"
    reply = data[text]
    if not isinstance(reply, str):
        return None, None, f"{text!r} must be text, found {found(reply)}"
    if not reply.strip():
        return None, None, f"empty {text!r}"
    if len(reply) > MAX_LINE_CHARS:
        return None, None, f"{text!r} is longer than the {MAX_LINE_CHARS:,}-character limit"
    fields = {
        k: v
        for k, v in data.items()
        if k not in (text, id) and not (kind == "csv" and isinstance(v, str) and not v.strip())
    }  # a blank CSV cell is no value, as in `check`
    try:
        return reply, build_context(fields, defaults), None
    except ContextError as exc:
        return None, None, exc.message


_SEVERITIES = tuple(s.value for s in Severity)


def _report_meta() -> pd.DataFrame:
    import pandas as pd

    columns: dict[str, Any] = {"json": pd.Series([], dtype=object)}
    columns.update({name: pd.Series([], dtype="int64") for name in (*_SEVERITIES, "input_error")})
    return pd.DataFrame(columns)


def _blank(value: Any) -> bool:
    return _missing(value) or (isinstance(value, str) and not value.strip())


@dataclass
class DatasetSummary:
    """What `check_dataset` saw: replies, violations per severity, rows it could not check."""

    replies: int = 0
    with_violations: int = 0
    input_errors: int = 0
    by_severity: Counter[str] = field(default_factory=Counter)

    def add(self, part: pd.DataFrame) -> None:
        self.replies += len(part)
        self.input_errors += int(part["input_error"].sum())
        flagged = part[list(_SEVERITIES)].sum(axis=1) > 0
        self.with_violations += int(flagged.sum())
        for name in _SEVERITIES:
            self.by_severity[name] += int(part[name].sum())

    @property
    def violations(self) -> int:
        return sum(self.by_severity.values())

    def reaches(self, severity: str) -> bool:
        """Is there a violation at `severity` or above (`--fail-on`)?"""
        rank = Severity(severity).rank
        return any(n for s, n in self.by_severity.items() if Severity(s).rank >= rank)

    def line(self) -> str:
        """`Found 3 violations (2 errors, 1 warning, 0 info) in 2 of 5 replies.` and friends."""
        checked = self.replies - self.input_errors
        e, w, i = (self.by_severity[s] for s in ("error", "warning", "info"))
        if self.violations:
            text = (
                f"Found {_n(self.violations, 'violation')} ({_n(e, 'error')}, "
                f"{_n(w, 'warning')}, {i} info) in {self.with_violations} of "
                f"{_n(checked, 'reply', 'replies')}."
            )
        elif checked:
            text = "1 reply clean." if checked == 1 else f"All {checked} replies clean."
        else:
            text = "No replies checked."
        if self.input_errors:
            text += f" {_n(self.input_errors, 'record')} could not be checked."
        return text


def _n(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def check_dataset(
    paths: Sequence[str],
    out: TextIO,
    *,
    scheduler: str | Client,
    linter: Linter,
    selection: Selection | None = None,
    text: str = "text",
    id: str = "id",
    defaults: Mapping[str, Any] | None = None,
    blocksize: str | int = "64MB",
) -> DatasetSummary:
    """Lint datasets on a Dask cluster and write one JSON line per reply to `out`, in order.

    The engine of `replylint check --engine dask --scheduler ADDRESS PATH...`. `scheduler` is
    an address (`tcp://host:8786`) or a connected `distributed.Client`; `linter` checks every
    input (one policy for the run); `selection` filters sub-ids as `--select` does; `defaults`
    are `--channel`/`--agent`/`--customer`.

    The lines are those of `--format jsonl` for records, with the same error messages, minus
    what a partition cannot know: there is no `body_line` nor `error.line`, and a line that is
    not a JSON object has `"id": null, "kind": "record"`. Partitions are computed in parallel
    and written in input order, one at a time; the client holds one partition's lines.
    """
    _require_dask()
    from distributed import Client

    frame = read_dataset(paths, blocksize=blocksize)
    reports = frame.map_partitions(  # type: ignore[no-untyped-call]
        report_partition,
        _shipped(linter),
        selection or Selection(),
        text=text,
        id=id,
        defaults=dict(defaults or {}),
        meta=_report_meta(),
        align_dataframes=False,
    )
    own = isinstance(scheduler, str)
    if isinstance(scheduler, str):
        client: Client = Client(scheduler)  # type: ignore[no-untyped-call]
    else:
        client = scheduler
    summary = DatasetSummary()
    try:
        futures = client.compute(reports.to_delayed())  # type: ignore[no-untyped-call]
        for future in futures:
            part = future.result()
            future.release()
            out.writelines(line + "\n" for line in part["json"])
            summary.add(part)
    finally:
        if own:
            client.close()  # type: ignore[no-untyped-call]
    return summary
