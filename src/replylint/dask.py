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

Needs the `dask` extra: `pip install "replylint[dask]"` (dask[dataframe], distributed, pyarrow).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from .linter import Linter, PolicySpec
from .model import Context

if TYPE_CHECKING:  # pragma: no cover
    import dask.dataframe as dd
    import pandas as pd  # type: ignore[import-untyped]

COLUMNS = ("id", "rule", "severity", "start", "end", "line", "column", "matched", "message")
"""The violations frame: one row per violation, `id` naming the reply it was found in."""
CONTEXT_FIELDS = ("channel", "agent", "customer", "public")


def _require_dask() -> None:
    try:
        import dask.dataframe  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('replylint.dask needs Dask: pip install "replylint[dask]"') from exc


def meta() -> "pd.DataFrame":
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
    frame: "pd.DataFrame",
    linter: Linter,
    text: str = "text",
    id: str | None = "id",
    context: Sequence[str] = (),
) -> "pd.DataFrame":
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
    frame: "dd.DataFrame",
    policy: PolicySpec | Linter = None,
    *,
    text: str = "text",
    id: str | None = "id",
    context: Sequence[str] | None = None,
    redact: bool = True,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
) -> "dd.DataFrame":
    """A lazy Dask DataFrame of the violations in column `text` of `frame`.

    `policy` is what `replylint.check` takes (a path, `pack:NAME`, a mapping, a compiled
    `Policy`) or a ready `Linter`. `context` names the columns passed to each reply as its
    context (default: whichever of channel, agent, customer, public the frame has); other
    columns (brand, created_at...) can be listed too, for `{placeholders}` in messages.
    """
    _require_dask()
    from dask.delayed import delayed

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
    token = (
        f"replylint-policy-{linter.policy.hash}-{int(linter.redact)}-"
        f"{abs(hash(tuple(r.id for r in linter.policy.rules)))}"
    )
    shipped = delayed(linter, name=token, pure=True, traverse=False)
    out = frame.map_partitions(  # type: ignore[no-untyped-call]
        lint_partition,
        shipped,
        text=text,
        id=id,
        context=list(context),
        meta=meta(),
        align_dataframes=False,
    )
    return cast("dd.DataFrame", out)


def read_replies(
    path: str, *, blocksize: str | int | None = "64MB", **kwargs: Any
) -> "dd.DataFrame":
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
