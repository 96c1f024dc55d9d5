"""Archive audits on one machine: `replylint check archive.jsonl --jobs N` at growing sizes.

Shows the two promises of the streaming CLI: memory stays flat as the archive grows (peak RSS
of the parent and of all workers, sampled from /proc while it runs), and `--jobs` scales the
rate with the cores. The archive is written to a temporary directory by cycling the corpus
(real brand replies when the shared data is there).

    python bench/bench_archive.py                                # 10k and 100k, jobs 1 and 2
    python bench/bench_archive.py --records 1000000 --jobs 2     # the 1-million-record check
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import load_records  # noqa: E402


def tree_rss_mb(pid: int) -> tuple[float, float]:
    """(RSS of `pid`, RSS of `pid` plus all its descendants), in MB, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        ppid = int(fields.get("PPid", "0").strip() or 0)
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0] or 0) / 1024
    total, stack = 0.0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0.0)
        stack.extend(children.get(p, []))
    return rss.get(pid, 0.0), total


def write_archive(path: Path, records: int) -> None:
    corpus, _ = load_records(60_000)
    with path.open("w", encoding="utf-8") as f:
        for i, record in zip(range(records), itertools.cycle(corpus)):
            f.write(json.dumps({**record, "id": i}, ensure_ascii=False) + "\n")


def run(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, peak parent RSS and peak total RSS (MB) of a command."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_main = peak_total = 0.0
    while proc.poll() is None:
        main, total = tree_rss_mb(proc.pid)
        peak_main, peak_total = max(peak_main, main), max(peak_total, total)
        time.sleep(0.2)
    return time.perf_counter() - start, peak_main, peak_total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", default="10000,100000")
    parser.add_argument("--jobs", default="1,2")
    args = parser.parse_args()
    script = Path(sys.executable).with_name("replylint")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "replylint"]
    print(f"# replylint check ARCHIVE.jsonl --format jsonl > /dev/null; {os.cpu_count()} CPUs")
    print()
    print(
        "| records | --jobs | wall (s) | replies/s | speed-up | peak RSS parent (MB) | "
        "peak RSS all processes (MB) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for records in (int(r) for r in args.records.split(",")):
            path = Path(tmp) / f"archive-{records}.jsonl"
            write_archive(path, records)
            base: float | None = None
            for jobs in (int(j) for j in args.jobs.split(",")):
                wall, main_mb, total_mb = run(
                    [*command, "check", str(path), "--format", "jsonl", "--jobs", str(jobs)]
                )
                rate = records / wall
                base = base or rate
                print(
                    f"| {records:,} | {jobs} | {wall:.1f} | {rate:,.0f} | {rate / base:.2f}x "
                    f"| {main_mb:.0f} | {total_mb:.0f} |",
                    flush=True,
                )
            path.unlink()


if __name__ == "__main__":
    main()
