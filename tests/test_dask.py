"""replylint.dask: a Dask DataFrame linted on a local cluster equals the single-process run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from replylint import Linter
from replylint.policy import load_policy_text

pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from replylint.dask import COLUMNS, lint_dataframe, lint_partition, read_replies

REPLIES = [
    ("r1", "Honestly you should buy more $TSLA before earnings.", "AcmeBank", "JK"),
    ("r2", "Sorry about the wait, Dana! Let's sort it out. ^MS", "AcmeAir", "MS"),
    ("r3", "We apologize for any inconvenience. Call me on (415) 555-0132 ^JK", "AcmeAir", "JK"),
    ("r4", "That update is a f*cking mess, sorry!", "AcmeTel", None),
    ("r5", "   ", "AcmeTel", None),
    ("r6", "Thanks ^_^", None, "AB"),
    (
        "r7",
        "Ｙｏｕ ｓｈｏｕｌｄ ｂｕｙ bitcoin now!\r\nIt's a risk-free investment. ^MS",
        "AcmeBank",
        "MS",
    ),
    ("r8", "All sorted 🎉 ^MS", "AcmeAir", "MS"),
]


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [r[0] for r in REPLIES],
            "text": [r[1] for r in REPLIES],
            "brand": [r[2] for r in REPLIES],
            "agent": [r[3] for r in REPLIES],
        }
    )


def single_process(linter: Linter) -> list[tuple[object, ...]]:
    """What `Linter.check` says about each reply, as rows of the violations frame."""
    rows = []
    for rid, text, brand, agent in REPLIES:
        if not text.strip():
            continue
        context = {k: v for k, v in (("brand", brand), ("agent", agent)) if v is not None}
        for v in linter.check(text, context).violations:
            rows.append(
                (
                    rid,
                    v.rule,
                    v.severity.value,
                    v.start,
                    v.end,
                    v.line,
                    v.column,
                    v.matched,
                    v.message,
                )
            )
    return rows


@pytest.fixture(scope="module")
def client() -> distributed.Client:
    """Two threads in this process: one linter shared by threads."""
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def processes() -> distributed.Client:
    """Two worker processes: the compiled policy must travel pickled, as on a real cluster."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster, timeout=120) as c,
    ):
        c.wait_for_workers(2, timeout=120)
        yield c


def compute(client: distributed.Client, frame: dd.DataFrame) -> pd.DataFrame:
    """`frame.compute()` on `client`, with a deadline generous enough for a loaded CI machine."""
    return client.compute(frame).result(timeout=300)


def test_worker_processes_results_equal_the_single_process_run(
    processes: distributed.Client,
) -> None:
    pids = set(processes.run(os.getpid).values())
    assert len(pids) == 2 and os.getpid() not in pids  # really two other processes
    ddf = dd.from_pandas(frame(), npartitions=4)
    out = compute(processes, lint_dataframe(ddf, context=["brand", "agent"]))
    rows = [tuple(r) for r in out[list(COLUMNS)].itertuples(index=False)]
    assert rows == single_process(Linter.from_policy(None))


def test_a_policy_that_is_no_file_travels_to_worker_processes(
    processes: distributed.Client,
) -> None:
    """The workers cannot read this policy from anywhere: it exists only in the client."""
    policy = load_policy_text("""
rules:
  - id: refund
    type: pattern
    message: "{brand} must not promise '{match}'"
    patterns: ['\\brefund(?:ed)?\\b']
  - {id: sig, type: require, position: end, pattern: '\\^{agent}', fix: ' ^{agent}'}
""")
    linter = Linter(policy)
    ddf = dd.from_pandas(frame(), npartitions=4)
    out = compute(processes, lint_dataframe(ddf, linter, context=["brand", "agent"]))
    rows = [tuple(r) for r in out[list(COLUMNS)].itertuples(index=False)]
    assert rows == single_process(linter)
    assert {r[1] for r in rows} == {"sig"}


def test_local_cluster_results_equal_the_single_process_run(client: object) -> None:
    ddf = dd.from_pandas(frame(), npartitions=3)
    out = lint_dataframe(ddf, context=["brand", "agent"]).compute()
    rows = [tuple(r) for r in out[list(COLUMNS)].itertuples(index=False)]
    expected = single_process(Linter.from_policy(None))
    assert rows == expected
    assert {r[1] for r in rows} >= {
        "trading-advice",
        "personal-data.phone",
        "profanity",
        "signature",
        "scripted-phrasing",
        "trading-advice.guarantee",
    }
    for rid, _, _, start, end, _, _, matched, _ in rows:
        text = {r[0]: r[1] for r in REPLIES}[rid]
        assert text[start:end] == matched or "*" in matched  # personal data is redacted


def test_a_custom_policy_and_context_placeholders_travel_to_the_workers(client: object) -> None:
    policy = load_policy_text("""
rules:
  - id: refund
    type: pattern
    message: "{brand} must not promise '{match}'"
    patterns: ['\\brefund(?:ed)?\\b']
""")
    pdf = pd.DataFrame(
        {
            "id": [1, 2],
            "text": ["You'll be refunded today", "No refund"],
            "brand": ["AcmeAir", None],
        }
    )
    out = lint_dataframe(dd.from_pandas(pdf, npartitions=2), policy, context=["brand"]).compute()
    assert out[["id", "rule", "start", "end", "matched", "message"]].values.tolist() == [
        ["1", "refund", 10, 18, "refunded", "AcmeAir must not promise 'refunded'"],
        ["2", "refund", 3, 9, "refund", "must not promise 'refund'"],
    ]


def test_a_partition_without_violations_has_the_declared_columns_and_types() -> None:
    pdf = pd.DataFrame({"id": ["a"], "text": ["Sorry about the wait, Dana! ^MS"]})
    out = lint_partition(pdf, Linter.from_policy(None))
    assert list(out.columns) == list(COLUMNS)
    assert len(out) == 0
    assert str(out["start"].dtype) == "int64"


def test_missing_columns_fail_before_any_work_is_sent() -> None:
    ddf = dd.from_pandas(pd.DataFrame({"body": ["x"]}), npartitions=1)
    with pytest.raises(KeyError, match="no column 'text'"):
        lint_dataframe(ddf)
    with pytest.raises(KeyError, match="no context column 'agent'"):
        lint_dataframe(ddf, text="body", id=None, context=["agent"])


def test_jsonl_dataset_read_by_dask(tmp_path: Path, client: object) -> None:
    path = tmp_path / "replies.jsonl"
    path.write_text(
        "".join(json.dumps({"id": rid, "text": text}) + "\n" for rid, text, _, _ in REPLIES[:4]),
        encoding="utf-8",
    )
    out = lint_dataframe(read_replies(str(path))).compute()
    assert sorted(set(out["id"])) == ["r1", "r3", "r4"]
    assert out[out["id"] == "r4"][["rule", "matched"]].values.tolist() == [
        ["profanity", "f*cking"],
        ["signature", "sorry"],
    ]
