"""Archive audits on one machine: `replylint check archive.jsonl --jobs N` at growing sizes.

Shows the two promises of the streaming CLI: memory stays flat as the archive grows (peak RSS
of the parent and of all workers, sampled from /proc while it runs), and `--jobs` scales the
rate with the cores. The archive is written to a temporary directory by cycling the corpus
(real brand replies when the shared data is there).

Wall time on a shared machine depends on what else runs, so the table also gives the CPU time
of the whole process tree (user + system, workers included), the load average before each
run, and the most processes the tree had at once (the parent plus its workers).

    python bench/bench_archive.py                                # 10k and 100k, jobs 1 and 2
    python bench/bench_archive.py --records 1000000 --jobs 2     # the 1-million-record check
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import load_records  # noqa: E402


def tree_rss_mb(pid: int) -> tuple[float, float, int]:
    """(RSS of `pid`, RSS of `pid` plus all its descendants in MB, how many processes)."""
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
    total, stack, count = 0.0, [pid], 0
    while stack:
        p = stack.pop()
        total += rss.get(p, 0.0)
        count += p in rss
        stack.extend(children.get(p, []))
    return rss.get(pid, 0.0), total, count


def write_archive(path: Path, records: int) -> None:
    corpus, _ = load_records(60_000)
    with path.open("w", encoding="utf-8") as f:
        for i, record in zip(range(records), itertools.cycle(corpus)):
            f.write(json.dumps({**record, "id": i}, ensure_ascii=False) + "\n")


def run(command: list[str]) -> tuple[float, float, float, float, int]:
    """Wall seconds, CPU seconds of the tree, peak parent RSS, peak total RSS (MB), and the
    most processes at once, of a command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_main = peak_total = 0.0
    peak_count = 0
    while proc.poll() is None:
        main, total, count = tree_rss_mb(proc.pid)
        peak_main, peak_total = max(peak_main, main), max(peak_total, total)
        peak_count = max(peak_count, count)
        time.sleep(0.2)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # workers the CLI waited for included
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, peak_main, peak_total, peak_count


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
        "| records | --jobs | wall (s) | replies/s | speed-up | CPU (s) | load before | "
        "peak RSS parent (MB) | peak RSS all processes (MB) | processes |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for records in (int(r) for r in args.records.split(",")):
            path = Path(tmp) / f"archive-{records}.jsonl"
            write_archive(path, records)
            base: float | None = None
            for jobs in (int(j) for j in args.jobs.split(",")):
                load = os.getloadavg()[0]
                wall, cpu, main_mb, total_mb, count = run(
                    [*command, "check", str(path), "--format", "jsonl", "--jobs", str(jobs)]
                )
                rate = records / wall
                base = base or rate
                print(
                    f"| {records:,} | {jobs} | {wall:.1f} | {rate:,.0f} | {rate / base:.2f}x "
                    f"| {cpu:.1f} | {load:.1f} | {main_mb:.0f} | {total_mb:.0f} | {count} |",
                    flush=True,
                )
            path.unlink()


if __name__ == "__main__":
    main()
