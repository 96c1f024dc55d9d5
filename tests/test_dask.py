"""replylint.dask: a Dask DataFrame linted on a local cluster equals the single-process run."""

from __future__ import annotations

import gzip
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


# --------------------------------------------------------------------------- check --engine dask


def write_dataset(directory: Path) -> list[Path]:
    """The replies as JSONL and CSV files, with rows `check` cannot check (empty text, a
    malformed context field) so both paths report them."""
    directory.mkdir()
    jsonl, csv = directory / "a.jsonl", directory / "b.csv"
    records = [
        {"id": rid, "text": text, "brand": brand, "agent": agent}
        for rid, text, brand, agent in REPLIES
    ]
    records.append({"id": 9, "text": "We'll refund you today ^MS", "public": "maybe"})
    jsonl.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    csv.write_text(
        "id,text,agent\nc1,You should buy AAPL now ^JK,JK\nc2,,MS\nc3,Thanks for waiting!,\n",
        encoding="utf-8",
    )
    return [jsonl, csv]


def cli_jsonl(capsys: pytest.CaptureFixture[str], *paths: Path) -> list[dict[str, object]]:
    """What `replylint check --format jsonl` prints, without what a partition cannot know."""
    from replylint.cli import main

    main(
        ["check", *map(str, paths), "--format", "jsonl", "--jobs", "1", "--policy", "pack:default"]
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for line in lines:
        del line["body_line"]
        if "error" in line:
            del line["error"]["line"]
    return lines


def test_check_dataset_writes_what_check_format_jsonl_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], processes: distributed.Client
) -> None:
    import io

    from replylint.dask import check_dataset

    paths = write_dataset(tmp_path / "dataset")
    expected = cli_jsonl(capsys, *paths)
    out = io.StringIO()
    summary = check_dataset(
        [str(p) for p in paths],
        out,
        scheduler=processes,
        linter=Linter.from_policy("pack:default"),
        blocksize=300,  # several partitions per file: the order must survive
    )
    assert [json.loads(line) for line in out.getvalue().splitlines()] == expected
    errors = [line for line in expected if "error" in line]
    assert [(e["id"], e["error"]["message"]) for e in errors] == [
        ("r5", "empty 'text'"),
        ("9", "public: expected true or false, found 'maybe'"),
        ("c2", "empty 'text'"),
    ]
    assert (summary.replies, summary.input_errors) == (len(expected), 3)
    assert summary.reaches("error") and summary.reaches("warning")
    assert summary.line().endswith("3 records could not be checked.")


def test_check_dataset_walks_a_directory_and_reads_parquet_on_a_scheduler_address(
    tmp_path: Path, processes: distributed.Client
) -> None:
    import io

    from replylint.dask import check_dataset

    directory = tmp_path / "dataset"
    write_dataset(directory)
    (directory / "notes.txt").write_text("a draft: not part of a dataset", encoding="utf-8")
    with gzip.open(directory / "a2.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write('\ufeff{"id": "g1", "text": "Thanks for waiting! ^MS"}\n')
    (directory / "later").mkdir()
    frame().to_parquet(directory / "later" / "c.parquet")
    out = io.StringIO()
    check_dataset(
        [str(directory)],
        out,
        scheduler=processes.scheduler.address,  # check_dataset connects and disconnects
        linter=Linter.from_policy(None),
    )
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[9]["id"] == "g1" and lines[9]["decision"] == "allow"
    assert [line["source"] for line in lines] == (
        [str(directory / "a.jsonl")] * 9
        + [str(directory / "a2.jsonl.gz")]
        + [str(directory / "b.csv")] * 3
        + [str(directory / "later" / "c.parquet")] * 8
    )
    linter = Linter.from_policy(None)
    for line, (rid, text, brand, agent) in zip(lines[-8:], REPLIES):
        assert line["id"] == rid
        if text.strip():
            context = {k: v for k, v in (("brand", brand), ("agent", agent)) if v is not None}
            assert line["violations"] == [
                v.to_dict() for v in linter.check(text, context).violations
            ]


def test_a_path_that_is_no_dataset_is_refused_before_any_work(tmp_path: Path) -> None:
    from replylint.dask import dataset_files

    draft = tmp_path / "draft.txt"
    draft.write_text("Thanks! ^MS", encoding="utf-8")
    with pytest.raises(ValueError, match="draft.txt: not a dataset file"):
        list(dataset_files([str(draft)]))
    with pytest.raises(FileNotFoundError, match="nowhere: no such file"):
        list(dataset_files([str(tmp_path / "nowhere")]))


def test_records_check_cannot_read_are_reported_and_the_rest_is_checked(
    tmp_path: Path, processes: distributed.Client
) -> None:
    """A malformed line is one error row, as in `check`, not a failed partition."""
    import io

    from replylint.dask import check_dataset

    path = tmp_path / "broken.jsonl"
    path.write_bytes(
        b'{not json\n[1, 2]\n\n{"id": "x", "body": "hi"}\n{"id": "y", "text": "caf\xe9"}\n'
        b'{"id": 7, "text": "You should buy $TSLA ^MS"}\n'
    )
    out = io.StringIO()
    summary = check_dataset(
        [str(path)], out, scheduler=processes, linter=Linter.from_policy(None), blocksize=16
    )
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["id"], line.get("error", {}).get("message")) for line in lines] == [
        (None, "not valid JSON: Expecting property name enclosed in double quotes (column 2)"),
        (None, "expected a JSON object, found a list"),
        ("x", "no 'text' field (fields: id, body); use --text-field"),
        (None, "not UTF-8: invalid byte 0xe9 at byte offset 24 of the line"),
        ("7", None),
    ]
    assert lines[-1]["violations"][0]["rule"] == "trading-advice"
    assert (summary.replies, summary.input_errors, summary.with_violations) == (5, 4, 1)


def test_check_engine_dask_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], processes: distributed.Client
) -> None:
    from replylint.cli import main

    paths = [str(p) for p in write_dataset(tmp_path / "dataset")]
    expected = cli_jsonl(capsys, *paths)
    code = main(["check", "--engine", "dask", "--scheduler", processes.scheduler.address,
                 "--format", "jsonl", *paths])
    captured = capsys.readouterr()
    assert code == 2  # the dataset holds three unreadable records
    assert [json.loads(line) for line in captured.out.splitlines()] == expected
    assert captured.err.strip().endswith("3 records could not be checked.")
    assert main(["check", "--engine", "dask", *paths]) == 2
    assert capsys.readouterr().err == (
        "replylint: error: --engine dask needs --scheduler ADDRESS (e.g. tcp://host:8786)\n")
