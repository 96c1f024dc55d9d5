"""Benchmark `replylint serve` on loopback: latency, throughput, errors and memory under load.

Starts the real server on 127.0.0.1 (a free port), then drives it open-loop at a target rate
with concurrent keep-alive connections for a bounded time, using real brand replies from
<repo>/../shared/data/brand-replies/brand_replies.jsonl as request bodies (a generated corpus
when that file is absent). Latency is measured from each request's scheduled send time, so a
server that falls behind shows it (no coordinated omission). Prints one table row per rate.

Each rate sends bodies the server has not seen yet (the next slice of the shuffled corpus), so
a later rate does not profit from caches the earlier ones warmed; when the corpus runs out the
slices wrap around and the table says so. `--fresh-server` starts a new server for each rate
instead (cold caches every time).

    python bench/bench_server.py                          # 30 s at 100 req/s, pack:default
    python bench/bench_server.py --rate 100,200,400,800 --seconds 15
    python bench/bench_server.py --policy my-policy.yaml --concurrency 64 --fresh-server
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "brand-replies" / "brand_replies.jsonl"


@dataclass
class Run:
    """What one rate produced."""

    rate: float
    seconds: float
    bodies: str = ""
    latencies: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    decisions: dict[str, int] = field(default_factory=dict)
    dropped: int = 0
    incomplete: int = 0
    sent: int = 0
    wall: float = 0.0
    rss_start: float = 0.0
    rss_end: float = 0.0
    rss_max: float = 0.0


def plan_slices(rates: list[float], seconds: float, corpus: int) -> list[tuple[int, int, bool]]:
    """(first body, count, wrapped) per rate: consecutive slices of the corpus, so no rate
    re-sends a body an earlier one sent until the corpus runs out (then `wrapped`)."""
    out: list[tuple[int, int, bool]] = []
    start = 0
    for rate in rates:
        count = int(rate * seconds)
        out.append((start % corpus, count, start + count > corpus))
        start += count
    return out


def load_bodies(seed: int) -> tuple[list[bytes], str]:
    """Request bodies: real brand replies when the shared data is there, else generated ones."""
    texts: list[str] = []
    if CORPUS.is_file():
        with CORPUS.open(encoding="utf-8") as f:
            for line in f:
                text = json.loads(line).get("text")
                if isinstance(text, str) and text.strip():
                    texts.append(text)
        source = f"{CORPUS.name} ({len(texts):,} real brand replies)"
    else:
        texts = generated_corpus(50_000, seed)
        source = f"generated corpus ({len(texts):,} replies; {CORPUS} not found)"
    rng = random.Random(seed)
    rng.shuffle(texts)
    bodies = [json.dumps({"text": t, "context": {"channel": "twitter"}}).encode() for t in texts]
    return bodies, source


def generated_corpus(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    opening = ["Hi Dana,", "Hey there!", "Hello Sam,", "Thanks for reaching out!", ""]
    middle = ["so sorry about the wait, we've re-sent your code.",
              "we apologize for any inconvenience caused.",
              "please DM us your order number and we'll take a look.",
              "you should buy more $TSLA before earnings!",
              "your replacement will definitely arrive tomorrow.",
              "we've updated the email to dana.smith@example.com for you.",
              "that update is a damn mess, sorry!",
              "the outage is fixed now, a restart of the app should do it."]
    closing = ["^MS", "^JK", "- Maya", "", "Have a great day!"]
    return [" ".join(p for p in (rng.choice(opening), rng.choice(middle), rng.choice(closing))
                     if p) for _ in range(n)]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def start_server(policies: list[str], extra: list[str], log: Any
                 ) -> tuple[subprocess.Popen[bytes], int]:
    args = [sys.executable, "-m", "replylint.server", "--host", "127.0.0.1", "--port", "0",
            *extra]
    for p in policies:
        args += ["--policy", p]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}: "
                             f"{Path(log.name).read_text()[-2000:]}")
        for line in Path(log.name).read_text(errors="replace").splitlines():
            if '"event": "listening"' in line:
                return proc, int(json.loads(line)["url"].rsplit(":", 1)[1])
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("server did not start within 60 s")


async def http_post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str,
                    body: bytes) -> tuple[int, bytes]:
    writer.write(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Content-Type: application/json\r\nContent-Length: "
                 + str(len(body)).encode() + b"\r\n\r\n" + body)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def wait_ready(port: int) -> None:
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            await writer.drain()
            line = await reader.readline()
            writer.close()
            if b" 200 " in line:
                return
        except OSError:
            pass
        await asyncio.sleep(0.05)
    raise SystemExit("server never became ready")


async def drive(port: int, pid: int, bodies: list[bytes], first: int, rate: float,
                seconds: float, concurrency: int, timeout: float) -> Run:
    run = Run(rate=rate, seconds=seconds)
    total = int(rate * seconds)
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    run.rss_start = run.rss_max = rss_mb(pid)

    async def worker() -> None:
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while True:
            job = await queue.get()
            if job is None:
                break
            i, scheduled = job
            try:
                if conn is None:
                    conn = await asyncio.open_connection("127.0.0.1", port)
                status, raw = await asyncio.wait_for(
                    http_post(*conn, "/v1/check", bodies[(first + i) % len(bodies)]), timeout)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                run.dropped += 1
                if conn is not None:
                    conn[1].close()
                conn = None
                continue
            run.latencies.append((time.perf_counter() - scheduled) * 1000)
            run.statuses[status] = run.statuses.get(status, 0) + 1
            if status == 200:
                report = json.loads(raw)
                run.server_ms.append(report["elapsed_ms"])
                run.decisions[report["decision"]] = run.decisions.get(report["decision"], 0) + 1
                run.incomplete += bool(report["incomplete"])
        if conn is not None:
            conn[1].close()

    async def sample_memory() -> None:
        while True:
            await asyncio.sleep(1)
            run.rss_max = max(run.rss_max, rss_mb(pid))

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    sampler = asyncio.create_task(sample_memory())
    start = time.perf_counter()
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((i, scheduled))
        run.sent += 1
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    run.wall = time.perf_counter() - start
    sampler.cancel()
    run.rss_end = rss_mb(pid)
    run.rss_max = max(run.rss_max, run.rss_end)
    return run


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def print_table(runs: list[Run]) -> None:
    head = ("target/s", "achieved/s", "sent", "ok", "errors", "dropped", "incompl",
            "p50 ms", "p95 ms", "p99 ms", "max ms", "srv p99", "RSS start", "RSS end", "RSS max",
            "bodies")
    rows = []
    for r in runs:
        ok = r.statuses.get(200, 0)
        errors = sum(n for s, n in r.statuses.items() if s != 200)
        rows.append((f"{r.rate:g}", f"{(ok + errors) / r.wall:.1f}", str(r.sent), str(ok),
                     str(errors), str(r.dropped), str(r.incomplete),
                     f"{pct(r.latencies, 50):.1f}", f"{pct(r.latencies, 95):.1f}",
                     f"{pct(r.latencies, 99):.1f}", f"{max(r.latencies, default=0):.1f}",
                     f"{pct(r.server_ms, 99):.1f}", f"{r.rss_start:.1f} MB",
                     f"{r.rss_end:.1f} MB", f"{r.rss_max:.1f} MB", r.bodies))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    print("  ".join(h.rjust(w) for h, w in zip(head, widths)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=30.0, help="duration per rate (default 30)")
    p.add_argument("--rate", default="100",
                   help="target requests/s; a comma list runs each in turn (default 100)")
    p.add_argument("--concurrency", type=int, default=32, help="client connections (default 32)")
    p.add_argument("--policy", action="append", default=[],
                   help="policy for the server (repeatable; default pack:default)")
    p.add_argument("--deadline-ms", type=int, default=300, help="server --deadline-ms")
    p.add_argument("--threads", type=int, help="server --threads (default: the server's)")
    p.add_argument("--fresh-server", action="store_true",
                   help="start a new server for each rate (cold caches), instead of one server "
                        "fed bodies it has not seen yet")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds before a request without an answer counts as dropped")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    rates = [float(r) for r in args.rate.split(",") if r.strip()]
    bodies, source = load_bodies(args.seed)
    policies = args.policy or ["pack:default"]
    extra = ["--deadline-ms", str(args.deadline_ms)]
    if args.threads:
        extra += ["--threads", str(args.threads)]
    mode = ("a fresh server per rate" if args.fresh_server else
            "one server; each rate sends bodies it has not seen yet")
    print(f"bodies: {len(bodies):,} from {source}; {args.concurrency} keep-alive connections; "
          f"{args.seconds:g} s per rate; deadline {args.deadline_ms} ms; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at start; {mode}")
    runs: list[Run] = []
    server: tuple[subprocess.Popen[bytes], int, Any] | None = None
    try:
        for rate, (first, count, wrapped) in zip(rates, plan_slices(rates, args.seconds,
                                                                     len(bodies))):
            if server is None or args.fresh_server:
                if server is not None:
                    stop_server(*server)
                server = boot(policies, extra)
            proc, port, _ = server
            run = asyncio.run(drive(port, proc.pid, bodies, first, rate, args.seconds,
                                    args.concurrency, args.timeout))
            run.bodies = f"{first:,}+{count:,}" + (" (wrapped: repeats)" if wrapped else "")
            runs.append(run)
    finally:
        if server is not None:
            stop_server(*server)
    print()
    print_table(runs)
    for r in runs:
        if r.decisions:
            shares = ", ".join(f"{k} {v / sum(r.decisions.values()):.0%}"
                               for k, v in sorted(r.decisions.items()))
            print(f"decisions at {r.rate:g}/s: {shares}; server elapsed_ms p50 "
                  f"{statistics.median(r.server_ms):.1f}")
    return 0


def boot(policies: list[str], extra: list[str]) -> tuple[subprocess.Popen[bytes], int, Any]:
    log = tempfile.NamedTemporaryFile("wb", suffix=".log", delete=False)  # noqa: SIM115
    started = time.monotonic()
    proc, port = start_server(policies, extra, log)
    asyncio.run(wait_ready(port))
    print(f"replylint serve on 127.0.0.1:{port} (pid {proc.pid}), policy "
          f"{', '.join(policies)}, ready in {time.monotonic() - started:.1f} s")
    return proc, port, log


def stop_server(proc: subprocess.Popen[bytes], port: int, log: Any) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    os.unlink(log.name)


if __name__ == "__main__":
    sys.exit(main())
