"""Benchmark of `docgen serve` (issue #16), not a test: renders per second and p50/p95/p99 latency of
``POST /v1/render`` at 1, 4 and 16 concurrent clients on loopback, against `docgen batch` throughput on
the same records with the same worker count, measured in the same run.

    .venv/bin/python bench/serve.py --records 200 --workers 2 --format pdf
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
DOCGEN = Path(sys.executable).with_name("docgen")
AS_OF = "2026-11-24"


def _records(n: int) -> list[bytes]:
    import builders

    out = []
    for i in range(n):
        plan = builders.plan_dict()
        plan["id"], plan["client"]["id"] = f"TP-S{i:05d}", f"C-S{i:05d}"
        out.append(json.dumps(plan, default=str).encode())
    return out


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def _run(url: str, bodies: list[bytes], concurrency: int, fmt: str) -> tuple[float, list[float]]:
    import httpx

    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            answer = await http.post(f"/v1/render?format={fmt}&as_of={AS_OF}", content=body)
            latencies.append(time.perf_counter() - started)
            if answer.status_code != 200:
                raise SystemExit(f"render answered {answer.status_code}: {answer.text[:200]}")

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        return time.perf_counter() - started, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--format", default="pdf", choices=["pdf", "docx", "zip"])
    parser.add_argument("--clients", default="1,4,16")
    args = parser.parse_args()
    bodies = _records(args.records)
    fmt_batch = "docx,pdf" if args.format == "zip" else args.format
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # docgen batch on the same records, in a fresh process, as an agency runs it
        (folder / "records.jsonl").write_bytes(b"\n".join(bodies) + b"\n")
        started = time.perf_counter()
        subprocess.run([str(DOCGEN), "batch", str(folder / "records.jsonl"),  # noqa: S603 - docgen itself
                        "--out", str(folder / "batch"),
                        "--workers", str(args.workers), "--format", fmt_batch, "--as-of", AS_OF],
                       check=True, capture_output=True)
        batch_rate = args.records / (time.perf_counter() - started)

        port = _port()
        env = {k: v for k, v in os.environ.items() if k != "DOCGEN_AUDIT"}
        server = subprocess.Popen([str(DOCGEN), "serve", "--data", str(folder / "data"),  # noqa: S603
                                   "--no-auth", "--port",
                                   str(port), "--workers", str(args.workers)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            import httpx

            for _ in range(300):
                try:
                    if httpx.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            asyncio.run(_run(url, bodies[: 2 * args.workers], args.workers, args.format))  # warm the workers
            print(f"{args.records} plans, {args.format}, {args.workers} worker(s), {os.cpu_count()} core(s)")
            print(f"docgen batch (fresh process, incl. start-up): {batch_rate:7.1f} records/s")
            for concurrency in (int(c) for c in args.clients.split(",")):
                seconds, latencies = asyncio.run(_run(url, bodies, concurrency, args.format))
                rate = len(bodies) / seconds
                ms = [1000 * v for v in latencies]
                print(f"serve, {concurrency:2d} client(s): {rate:7.1f} renders/s ({rate / batch_rate:4.2f}x batch)  "
                      f"p50 {_percentile(ms, 50):6.1f} ms  p95 {_percentile(ms, 95):6.1f} ms  "
                      f"p99 {_percentile(ms, 99):6.1f} ms  mean {statistics.fmean(ms):6.1f} ms")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
