"""`replylint.dask` on a local cluster of 1 and 2 worker processes: replies per second.

Starts `distributed.LocalCluster(n_workers=N, threads_per_worker=1)`, warms it up (the policy
travels to each worker once), then lints the corpus as a Dask DataFrame and counts the
violations. Needs `pip install "replylint[dask]"`.

    python bench/bench_dask.py                    # 20,000 replies, 1 and 2 workers
    python bench/bench_dask.py --replies 50000 --workers 1,2,4
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import load_records  # noqa: E402


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
    from replylint.dask import lint_dataframe

    records, origin = load_records(args.replies)
    frame = pd.DataFrame(records)
    replies = dd.from_pandas(frame, npartitions=args.partitions)
    warm = dd.from_pandas(frame.head(200), npartitions=4)
    linter = Linter.from_policy(None)
    print(f"# replylint.dask on a LocalCluster: {origin}, {args.partitions} partitions")
    print()
    print("| workers | seconds | replies/s | speed-up | violations |")
    print("|---:|---:|---:|---:|---:|")
    base: float | None = None
    for workers in (int(w) for w in args.workers.split(",")):
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster),
        ):
            lint_dataframe(warm, linter, context=["brand"]).compute()
            start = time.perf_counter()
            found = len(lint_dataframe(replies, linter, context=["brand"]).compute())
            seconds = time.perf_counter() - start
        rate = len(frame) / seconds
        base = base or rate
        print(f"| {workers} | {seconds:.1f} | {rate:,.0f} | {rate / base:.2f}x | {found:,} |")


if __name__ == "__main__":
    main()
