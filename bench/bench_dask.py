"""`replylint.dask` on a local cluster of 1 and 2 worker processes: replies per second.

Starts `distributed.LocalCluster(n_workers=N, threads_per_worker=1)`, warms it up (the policy
travels to each worker once), then times two things on the same replies:

- `lint_dataframe` on an in-memory Dask DataFrame, counting the violations;
- `check_dataset` (the engine of `check --engine dask`) on the replies as a JSONL file, writing
  every reply's JSON line to /dev/null: reading, linting and the client's ordered writing.

Wall time on a shared machine depends on what else runs, so each row also gives the CPU time
the workers spent (user + system, from each worker process) and the load average before it.
Needs `pip install "replylint[dask]"`.

    python bench/bench_dask.py                    # 20,000 replies, 1 and 2 workers
    python bench/bench_dask.py --replies 50000 --workers 1,2,4
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import load_records  # noqa: E402


def worker_cpu() -> float:
    """CPU seconds of this worker process so far (runs on each worker)."""
    times = os.times()
    return times.user + times.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=20_000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--partitions", type=int, default=16)
    args = parser.parse_args()
    try:
        import dask.dataframe as dd
        import pandas as pd
        from distributed import Client, LocalCluster
    except ImportError:
        print('skip: Dask is not installed (pip install "replylint[dask]")')
        return
    from replylint import Linter
    from replylint.dask import check_dataset, lint_dataframe

    records, origin = load_records(args.replies)
    frame = pd.DataFrame(records)
    replies = dd.from_pandas(frame, npartitions=args.partitions)
    warm = dd.from_pandas(frame.head(200), npartitions=4)
    linter = Linter.from_policy(None)
    print(f"# replylint.dask on a LocalCluster: {origin}, {args.partitions} partitions")
    print()
    print("| what | workers | wall (s) | replies/s | speed-up | worker CPU (s) | load before |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "replies.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for record in records:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        blocksize = path.stat().st_size // args.partitions + 1
        base: dict[str, float] = {}
        for workers in (int(w) for w in args.workers.split(",")):
            with (
                LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
                ) as cluster,
                Client(cluster) as client,
                open(os.devnull, "w", encoding="utf-8") as devnull,
            ):
                lint_dataframe(warm, linter, context=["brand"]).compute()
                runs = {
                    "lint_dataframe": lambda: len(
                        lint_dataframe(replies, linter, context=["brand"]).compute()
                    ),
                    "check_dataset (JSONL file)": lambda: (
                        check_dataset(
                            [str(path)],
                            devnull,
                            scheduler=client,
                            linter=linter,
                            blocksize=blocksize,
                        ).replies
                    ),
                }
                for name, run in runs.items():
                    load = os.getloadavg()[0]
                    cpu_before = sum(client.run(worker_cpu).values())
                    start = time.perf_counter()
                    run()
                    seconds = time.perf_counter() - start
                    cpu = sum(client.run(worker_cpu).values()) - cpu_before
                    rate = len(frame) / seconds
                    base.setdefault(name, rate)
                    print(
                        f"| {name} | {workers} | {seconds:.1f} | {rate:,.0f} | "
                        f"{rate / base[name]:.2f}x | {cpu:.1f} | {load:.1f} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
