"""`--jobs N`: worker processes give the same output, in input order, as one process."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from replylint import Linter
from replylint.cli import main
from replylint.config import PolicyRef, Selection
from replylint.model import Context
from replylint.parallel import Job, LinterSpec, ProcessChecker
from replylint.policy import load_policy_text

TEXTS = [
    "Honestly you should buy more $TSLA before earnings.",
    "Sorry about the wait, Dana! Let's sort it out. ^MS",
    "We apologize for any inconvenience. Call me on (415) 555-0132 ^JK",
    "That update is a f*cking mess, sorry!",
    "Thanks ^_^",
    "Hi!\r\nYour card 4111 1111 1111 1111 has been refunded 🎉 ^MS",
]


def archive(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "replies.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            record = {"id": i, "text": TEXTS[i % len(TEXTS)], "agent": ["MS", "JK"][i % 2]}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        f.write("{not json\n")
        f.write(json.dumps({"id": "last", "text": "You might want to sell your stocks."}) + "\n")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("fmt", ["jsonl", "text", "json"])
def test_two_workers_print_exactly_what_one_process_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    path = archive(tmp_path, 700)
    serial = run(capsys, "check", str(path), "--format", fmt, "--jobs", "1", "--statistics")
    parallel = run(capsys, "check", str(path), "--format", fmt, "--jobs", "2", "--statistics")
    assert parallel == serial
    assert serial[0] == 2  # the broken line is an input error
    if fmt == "jsonl":
        lines = [json.loads(line) for line in serial[1].splitlines()]
        assert [r["id"] for r in lines] == [str(i) for i in range(700)] + ["line 701", "last"]
        assert lines[-2]["error"]["line"] == 701


def test_auto_jobs_switch_to_workers_after_the_first_thousand_replies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from replylint import cli, parallel

    started: list[int] = []
    real = parallel.ProcessChecker

    class Spy(real):  # type: ignore[misc, valid-type]
        def __init__(self, jobs: int) -> None:
            started.append(jobs)
            super().__init__(jobs)

    monkeypatch.setattr(parallel, "ProcessChecker", Spy)
    monkeypatch.setattr(parallel, "cpu_count", lambda: 2)
    monkeypatch.setattr(cli, "AUTO_PARALLEL_AFTER", 50)  # read when the run starts
    small = archive(tmp_path, 40)
    expected = run(capsys, "check", str(small), "--format", "jsonl", "--jobs", "1")
    assert run(capsys, "check", str(small), "--format", "jsonl") == expected
    assert started == []
    big = archive(tmp_path, 300)
    expected = run(capsys, "check", str(big), "--format", "jsonl", "--jobs", "1")
    assert run(capsys, "check", str(big), "--format", "jsonl") == expected
    assert started == [2]


def test_fix_always_runs_in_one_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from replylint import parallel

    monkeypatch.setattr(parallel, "ProcessChecker", None)  # would fail if used
    draft = tmp_path / "draft.txt"
    draft.write_text("---\nagent: MS\n---\nAll sorted, Dana!\n", encoding="utf-8")
    code, _, _ = run(capsys, "check", str(draft), "--fix", "--jobs", "4")
    assert code == 0
    assert draft.read_text(encoding="utf-8") == "---\nagent: MS\n---\nAll sorted, Dana! ^MS\n"


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_jobs_must_be_a_positive_number_or_auto(
    capsys: pytest.CaptureFixture[str], value: str
) -> None:
    code, _, err = run(capsys, "check", "x.txt", "--jobs", value)
    assert code == 2
    assert f"expected a positive number or auto, found {value!r}" in err


def test_process_checker_keeps_order_and_passes_through_pairs_without_a_job() -> None:
    spec = LinterSpec(PolicyRef("pack:default"), Selection(), True)
    pairs: list[tuple[int, Job | None]] = []
    for i in range(1000):
        text = TEXTS[i % len(TEXTS)]
        pairs.append((i, None if i % 7 == 0 else Job(spec, text, Context(agent="MS"))))
    linter = Linter.from_policy(None)
    with ProcessChecker(2, chunk=64) as pool:
        out = list(pool.map(iter(pairs)))
    assert [k for k, _ in out] == list(range(1000))
    for (i, job), (_, report) in zip(pairs, out):
        if job is None:
            assert report is None
        else:
            assert report == linter.check(job.text, job.context)


def test_a_compiled_linter_survives_pickling_with_every_rule_type() -> None:
    policy = load_policy_text("""
rules:
  - {id: words, type: phrase, phrases: [rest assured], inflect: true}
  - {id: sig, type: require, position: end, pattern: '\\^{agent}', fix: ' ^{agent}',
     placeholders: {agent: '[A-Z]{2}'}}
  - {id: buy, type: tokens, patterns: [[{LOWER: buy}, {TEXT: {REGEX: '^[A-Z]{2,5}$'}}]]}
  - {id: pii, type: personal-data}
  - {id: long, type: length, default_limit: 20}
  - {id: swear, type: profanity}
  - {id: tip, type: pattern, patterns: ['\\bstrong\\s+buy\\b']}
""")
    linter = Linter(policy)
    copy = pickle.loads(pickle.dumps(linter))
    text = "Rest assured: buy AAPL, a strong buy, damn! Text (415) 555-0132 ^JK"
    for context in ({"agent": "MS"}, None):
        report = copy.check(text, context)
        assert report == linter.check(text, context)
    assert {v.rule for v in report.violations} == {
        "words",
        "buy",
        "pii.phone",
        "long",
        "swear",
        "tip",
    }


def worker_pids_seen(pool: ProcessChecker, pairs: list[tuple[int, Job | None]]) -> set[int]:
    """Every worker process alive while `pool` maps `pairs` (sampled after each result)."""
    import multiprocessing

    seen: set[int] = set()
    for _ in pool.map(iter(pairs)):
        seen.update(p.pid for p in multiprocessing.active_children() if p.pid is not None)
    return seen


def jobs_for(n: int) -> list[tuple[int, Job | None]]:
    spec = LinterSpec(PolicyRef("pack:default"), Selection(), True)
    return [(i, Job(spec, TEXTS[i % len(TEXTS)], Context())) for i in range(n)]


def test_no_more_workers_start_than_there_are_chunks_of_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: `--jobs 8` on a small archive forked all 8 workers for 2 chunks of work."""
    from replylint import parallel

    monkeypatch.setattr(parallel, "cpu_count", lambda: 2)  # 4 is allowed: the cap is not the point
    with ProcessChecker(4, chunk=64) as pool:
        assert len(worker_pids_seen(pool, jobs_for(100))) == 2  # 100 replies: 2 chunks of 64


def test_jobs_are_capped_at_twice_the_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: `--jobs 9999` forked ~1,000 processes and the machine ran out of memory."""
    from replylint import parallel

    monkeypatch.setattr(parallel, "cpu_count", lambda: 1)
    with ProcessChecker(4, chunk=8) as pool:  # 40 chunks of work, but 1 CPU: 2 workers at most
        assert pool.jobs == 2
        assert len(worker_pids_seen(pool, jobs_for(320))) == 2


@pytest.mark.parametrize(
    ("requested", "expected", "clamped"),
    [(0, 3, False), (1, 1, False), (6, 6, False), (7, 6, True), (9999, 6, True)],
)
def test_clamp_jobs_says_in_one_line_when_it_lowers_the_request(
    monkeypatch: pytest.MonkeyPatch, requested: int, expected: int, clamped: bool
) -> None:
    """0 is auto (the CPU count); the cap is twice the CPU count (here 3)."""
    import io

    from replylint import parallel

    monkeypatch.setattr(parallel, "cpu_count", lambda: 3)
    err = io.StringIO()
    assert parallel.clamp_jobs(requested, err) == expected
    warning = (
        f"replylint: warning: --jobs {requested} is more than twice the 3 CPUs this process "
        "may use; using 6 worker processes\n"
    )
    assert err.getvalue() == (warning if clamped else "")


# --------------------------------------------------------------------------- dying with the parent

posix_only = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="reads process states from /proc"
)


def children(pid: int) -> list[int]:
    """Live processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] not in "ZX":
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting for an init that does not reap is dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in "ZX"


def wait_until(condition: object, timeout: float) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def workers_of(proc: subprocess.Popen[bytes], count: int) -> list[int]:
    """The worker processes of `proc`, once `count` of them are running (generous deadline)."""
    assert wait_until(lambda: len(children(proc.pid)) >= count or proc.poll() is not None, 120)
    assert proc.poll() is None, proc.communicate()
    return children(proc.pid)


def assert_workers_exit(workers: list[int]) -> None:
    import os
    import signal

    try:
        assert wait_until(lambda: not any(alive(p) for p in workers), 60), (
            f"workers still running after their parent died: {[p for p in workers if alive(p)]}"
        )
    finally:
        for pid in workers:  # never leave a stray process behind, even when the test fails
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def start_cli(tmp_path: Path) -> subprocess.Popen[bytes]:
    """`replylint check - --jobs 2` fed 600 records on a pipe that stays open: it waits, busy."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "replylint", "check", "-", "--stdin-format", "jsonl",
         "--format", "jsonl", "--jobs", "2"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path,
    )  # fmt: skip
    assert proc.stdin is not None
    for i in range(600):
        record = {"id": i, "text": TEXTS[i % len(TEXTS)]}
        proc.stdin.write((json.dumps(record) + "\n").encode())
    proc.stdin.flush()
    return proc


@posix_only
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGKILL"])
def test_workers_exit_when_the_main_process_alone_is_killed(tmp_path: Path, signame: str) -> None:
    """Regression: `kill PID` (not the process group) left the forked workers running forever."""
    import signal

    proc = start_cli(tmp_path)
    try:
        workers = workers_of(proc, 2)
        proc.send_signal(getattr(signal, signame))
        assert proc.wait(timeout=60) == -getattr(signal, signame)  # it still dies of the signal
        assert_workers_exit(workers)
    finally:
        proc.kill()
        proc.wait()


SCRIPT = """
import sys, time
from replylint import parallel
from replylint.config import PolicyRef, Selection
from replylint.model import Context

parallel._orphan_guard = sys.argv[1]
spec = parallel.LinterSpec(PolicyRef("pack:default"), Selection(), True)

def pairs():
    for i in range(16):
        yield i, parallel.Job(spec, "Thanks!", Context())
    print("ready", flush=True)  # two chunks read: both workers have started
    time.sleep(600)

with parallel.ProcessChecker(2, chunk=8) as pool:
    for _ in pool.map(pairs()):
        pass
"""


@posix_only
@pytest.mark.parametrize(
    ("guard", "signame"),
    [
        ("watchdog", "SIGKILL"),  # the portable fallback: workers watch os.getppid()
        ("off", "SIGTERM"),  # no guard in the workers: the parent's handler takes them down
    ],
)
def test_each_mechanism_alone_takes_the_workers_down(
    tmp_path: Path, guard: str, signame: str
) -> None:
    import signal

    script = tmp_path / "pool.py"
    script.write_text(SCRIPT, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script), guard], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n", proc.communicate()
        workers = workers_of(proc, 2)
        proc.send_signal(getattr(signal, signame))
        assert proc.wait(timeout=60) == -getattr(signal, signame)
        assert_workers_exit(workers)
    finally:
        proc.kill()
        proc.wait()
