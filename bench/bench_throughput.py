"""Throughput, latency, start-up and memory of the default pack, beside spaCy and the peers.

Every figure is measured in this run, next to the same-run figure of spaCy's blank English
tokenizer (`nlp.pipe` over the same texts): the practical ceiling for a tokenized pipeline, and
the yardstick the targets are written against (shared machines make absolute numbers drift;
ratios measured side by side do not). Peers that are not installed print a skip line.

    python bench/bench_throughput.py                 # 10,000 replies, 3 rounds
    python bench/bench_throughput.py --replies 2000 --rounds 1 --cli-jobs 1,2
    python bench/bench_throughput.py --skip-peers

Install the peers with `pip install "replylint[bench]"` (better-profanity, alt-profanity-check,
proselint).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import exactly, load_texts  # noqa: E402

PEER_SECONDS = 3.0


def best_rate(run: Callable[[], object], n: int, rounds: int) -> float:
    """Replies per second of the fastest of `rounds` runs (the least disturbed by neighbours)."""
    best = float("inf")
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return n / best


def timed_rate(one: Callable[[str], object], texts: list[str], seconds: float) -> float:
    """Replies per second of a per-text call, over as many texts as fit in `seconds`."""
    start = time.perf_counter()
    done = 0
    for text in texts:
        one(text)
        done += 1
        if time.perf_counter() - start > seconds:
            break
    return done / (time.perf_counter() - start)


def replylint_command() -> list[str]:
    script = Path(sys.executable).with_name("replylint")
    return [str(script)] if script.exists() else [sys.executable, "-m", "replylint"]


def wall(args: list[str], repeat: int) -> float:
    """Median wall time of a command, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def child_peak_mb(code: str) -> tuple[float, str]:
    """Peak RSS (MB) of a fresh Python running `code`, and what it printed."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return data["rss_mb"], data.get("note", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cli-jobs", default="1", help="comma-separated --jobs values to time")
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args()

    texts, origin = load_texts(args.replies)
    n = len(texts)
    print(
        f"# replylint throughput: {origin}; {os.cpu_count()} CPUs; Python "
        f"{sys.version.split()[0]}; best of {args.rounds} rounds"
    )

    start = time.perf_counter()
    import spacy  # noqa: E402

    import_spacy = time.perf_counter() - start
    nlp = spacy.blank("en")
    from replylint import Linter

    start = time.perf_counter()
    linter = Linter.from_policy(None)
    compile_s = time.perf_counter() - start
    list(linter.check_many(texts[:200]))

    # Interleave the two so both see the same neighbours on a shared machine.
    spacy_rate = replylint_rate = 0.0
    for _ in range(args.rounds):
        spacy_rate = max(spacy_rate, best_rate(lambda: list(nlp.pipe(texts)), n, 1))
        replylint_rate = max(
            replylint_rate, best_rate(lambda: list(linter.check_many(texts)), n, 1)
        )

    rows: list[tuple[str, str, str]] = []

    def row(what: str, rate: float | None, note: str = "") -> None:
        shown = f"{rate:,.0f}" if rate is not None else "-"
        ratio = f"{rate / spacy_rate:.0%}" if rate is not None else ""
        rows.append((what, shown, ratio + (f" {note}" if note else "")))

    row("spaCy 3 blank('en') tokenizer, nlp.pipe", spacy_rate)
    row("replylint default pack, Linter.check_many (1 core)", replylint_rate)

    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "replies.jsonl"
        with archive.open("w", encoding="utf-8") as f:
            for i, text in enumerate(texts):
                f.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
        command = replylint_command()
        for jobs in [j for j in args.cli_jobs.split(",") if j]:
            seconds = wall(
                [*command, "check", str(archive), "--format", "jsonl", "--jobs", jobs], 1
            )
            row(f"replylint check archive.jsonl --jobs {jobs} (start-up included)", n / seconds)

        if not args.skip_peers:
            peers(texts, row)

        print()
        print("| what | replies/s | vs spaCy blank |")
        print("|---|---:|---:|")
        for what, rate_text, ratio in rows:
            print(f"| {what} | {rate_text} | {ratio} |")

        latency(linter, texts)

        draft = Path(tmp) / "draft.txt"
        draft.write_text("Sorry about the wait, Dana! Let's sort it out. ^MS\n", encoding="utf-8")
        version_s = wall([*command, "--version"], 5)
        cold_s = wall([*command, "check", str(draft)], 5)
        compile_cold = float(
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import time; t = time.perf_counter(); "
                    "from replylint.policy import load_policy; load_policy(None); "
                    "print(time.perf_counter() - t)",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        # Each in a fresh process: the API streaming the archive's texts through check_many,
        # and the CLI (measured from a fresh parent, whose only child it is).
        api_mb, _ = child_peak_mb(
            "import json, re; from replylint import Linter; "
            "linter = Linter.from_policy(None); "
            f"lines = open({str(archive)!r}, encoding='utf-8'); "
            "texts = (json.loads(line)['text'] for line in lines); "
            "n = sum(len(r.violations) for r in linter.check_many(texts)); "
            # VmHWM, not ru_maxrss: Linux carries the parent's high-water mark into a child.
            "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()); "
            "print(json.dumps({'rss_mb': int(hwm.group(1)) / 1024}))"
        )
        cli_mb, _ = child_peak_mb(
            "import json, resource, subprocess; "
            f"subprocess.run({[*command, 'check', str(archive), '--jobs', '1']!r}, "
            "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "print(json.dumps({'rss_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss"
            " / 1024}))"
        )

    print()
    print("| start-up and memory | measured | target |")
    print("|---|---:|---:|")
    print(f"| `replylint --version` (wall, median of 5) | {version_s:.3f} s | < 0.2 s |")
    print(
        f"| `replylint check one-draft.txt` cold (wall, median of 5) | {cold_s:.3f} s | < 1.0 s |"
    )
    print(f"| policy compile, pack:default, fresh process | {compile_cold:.3f} s | < 1 s |")
    print(f"| policy compile, pack:default, after imports | {compile_s:.3f} s | |")
    print(f"| `import spacy` (for reference) | {import_spacy:.3f} s | |")
    print(f"| peak RSS, API process checking {n:,} replies | {api_mb:.0f} MB | < 250 MB |")
    print(f"| peak RSS, CLI checking the {n:,}-record JSONL | {cli_mb:.0f} MB | < 250 MB |")


def latency(linter: object, texts: list[str]) -> None:
    from replylint import Linter

    assert isinstance(linter, Linter)
    replies = exactly(texts, 280)[:5000]
    for text in replies[:200]:
        linter.check(text)
    times = []
    for text in replies:
        start = time.perf_counter_ns()
        linter.check(text)
        times.append((time.perf_counter_ns() - start) / 1e6)
    times.sort()

    def pct(p: float) -> float:
        return times[min(len(times) - 1, int(p * len(times)))]

    print()
    print(f"| Linter.check latency, {len(times):,} replies of 280 characters | ms |")
    print("|---|---:|")
    for label, value in (
        ("p50", pct(0.50)),
        ("p90", pct(0.90)),
        ("p99", pct(0.99)),
        ("max", times[-1]),
    ):
        print(f"| {label} | {value:.3f} |")


def peers(texts: list[str], row: Callable[..., None]) -> None:
    try:
        from better_profanity import profanity

        profanity.load_censor_words()
        row(
            "better-profanity contains_profanity, one text at a time",
            timed_rate(profanity.contains_profanity, texts, PEER_SECONDS),
        )
    except ImportError:
        print("skip: better-profanity not installed")
    try:
        from profanity_check import predict

        row(
            "alt-profanity-check predict, one text per call",
            timed_rate(lambda t: predict([t]), texts, PEER_SECONDS),
        )
        row(
            "alt-profanity-check predict, whole batch in one call",
            best_rate(lambda: predict(texts), len(texts), 1),
        )
    except ImportError:
        print("skip: alt-profanity-check not installed")
    try:
        from proselint.checks import __register__
        from proselint.config import DEFAULT
        from proselint.registry import CheckRegistry
        from proselint.tools import LintFile

        CheckRegistry().register_many(__register__)
        row(
            "proselint API (LintFile.lint), one text at a time",
            timed_rate(lambda t: LintFile("<reply>", t).lint(DEFAULT), texts, PEER_SECONDS),
        )
    except ImportError:
        print("skip: proselint not installed")
    if shutil.which("vale"):
        print("note: vale is installed but not compared (a Go binary; per-process start-up)")


if __name__ == "__main__":
    main()
