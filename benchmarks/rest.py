"""REST API benchmark: ``GET /api/v1/entries/{id}`` on ``trace serve`` against a bare endpoint.

1. A SQLite data directory is built and loaded as for ``benchmarks.mcp`` (the
   measured account holds ENTRIES entries, default 100,000; four others ENTRIES/10
   each) with a Full Access API key.
2. ``trace serve`` starts on a free port (rate limit raised out of the way), and a
   bare Litestar ``GET /bare/{id}`` endpoint (a path parameter in, a small JSON
   object out) under the same uvicorn settings, as the ceiling, in the same run.
3. One keep-alive client sends ``GET /api/v1/entries/{id}`` with
   ``Authorization: Bearer`` for random live entries, one after another, then the
   same number of GETs to the bare endpoint; then both again from 4 concurrent
   clients. Calls/s, p50/p95 latency and the server's CPU ms per call; the ratios
   are the figures to keep (target ≥ 0.5).

    uv run python -m benchmarks.rest                 # 100k entries
    uv run python -m benchmarks.rest --entries 10000 --quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from benchmarks.mcp import (
    OTHER_ACCOUNTS,
    ROOT,
    SEED,
    build_data,
    cpu_seconds,
    free_port,
    start_trace,
    stop,
    summary,
)
from litestar import Litestar, get


@get("/bare/{entry_id:str}", sync_to_thread=False)
def _bare(entry_id: str) -> dict[str, Any]:
    return {"entry_id": entry_id, "title": None, "content": "x" * 200, "version": 1}


def bare_app() -> Litestar:
    """The ceiling: Litestar routing a GET with a path parameter and answering JSON."""
    return Litestar([_bare], openapi_config=None)


def start_bare(port: int) -> subprocess.Popen[bytes]:
    """Start the bare endpoint under uvicorn with the same settings as ``trace serve``."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "benchmarks.rest:bare_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--no-server-header",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with httpx.Client(timeout=5) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError("the bare endpoint exited during startup")
            try:
                if client.get(f"http://127.0.0.1:{port}/bare/x").status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            time.sleep(0.01)


async def sequential(
    client: httpx.AsyncClient, urls: list[str], headers: dict[str, str], pid: int
) -> dict[str, float]:
    """GET the URLs one after another; check every answer; return the figures."""
    samples: list[float] = []
    cpu = cpu_seconds(pid)
    started = time.perf_counter()
    for url in urls:
        t0 = time.perf_counter()
        response = await client.get(url, headers=headers)
        samples.append(time.perf_counter() - t0)
        if response.status_code != 200:
            raise RuntimeError(f"bad answer {response.status_code}: {response.text[:300]}")
    result = summary(samples, time.perf_counter() - started)
    result["server_cpu_ms"] = round((cpu_seconds(pid) - cpu) / len(urls) * 1000, 2)
    return result


async def concurrent(urls: list[str], headers: dict[str, str], clients: int) -> dict[str, float]:
    """GET the URLs from ``clients`` concurrent keep-alive connections."""
    queue = list(urls)
    samples: list[float] = []

    async def worker() -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            while queue:
                url = queue.pop()
                t0 = time.perf_counter()
                response = await client.get(url, headers=headers)
                samples.append(time.perf_counter() - t0)
                if response.status_code != 200:
                    raise RuntimeError(f"bad answer {response.status_code}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return summary(samples, time.perf_counter() - started)


async def measure(
    trace_base: str,
    bare_base: str,
    key: str,
    ids: list[str],
    *,
    calls: int,
    clients: int,
    trace_pid: int,
    bare_pid: int,
) -> dict[str, Any]:
    rng = random.Random(SEED)
    chosen = [rng.choice(ids) for _ in range(calls)]
    rest = [f"{trace_base}/api/v1/entries/{i}" for i in chosen]
    bare = [f"{bare_base}/bare/{i}" for i in chosen]
    auth = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    plain = {"Accept": "application/json"}
    results: dict[str, Any] = {"clients": clients}
    async with httpx.AsyncClient(timeout=60) as client:
        await sequential(client, rest[:50], auth, trace_pid)  # warm up both
        await sequential(client, bare[:50], plain, bare_pid)
        results["bare"] = await sequential(client, bare, plain, bare_pid)
        results["get_entry"] = await sequential(client, rest, auth, trace_pid)
    results["bare_concurrent"] = await concurrent(bare, plain, clients)
    results["get_entry_concurrent"] = await concurrent(rest, auth, clients)
    return results


def run(entries: int, *, quick: bool, clients: int, workdir: Path) -> dict[str, Any]:
    data_dir = workdir / "data"
    print(f"loading {entries} entries (+{OTHER_ACCOUNTS} other accounts)...", file=sys.stderr)
    data = asyncio.run(build_data(data_dir, entries))
    trace_port, bare_port = free_port(), free_port()
    server, _ = start_trace(data_dir, trace_port, data["key"])
    bare = start_bare(bare_port)
    try:
        results = asyncio.run(
            measure(
                f"http://127.0.0.1:{trace_port}",
                f"http://127.0.0.1:{bare_port}",
                data["key"],
                data["entry_ids"],
                calls=500 if quick else 2000,
                clients=clients,
                trace_pid=server.pid,
                bare_pid=bare.pid,
            )
        )
    finally:
        stop(server)
        stop(bare)
    results["entries"] = entries
    results["ratio"] = round(
        results["get_entry"]["calls_per_s"] / results["bare"]["calls_per_s"], 3
    )
    results["ratio_concurrent"] = round(
        results["get_entry_concurrent"]["calls_per_s"] / results["bare_concurrent"]["calls_per_s"],
        3,
    )
    results["load_average"] = os.getloadavg()
    return results


def report(r: dict[str, Any]) -> str:
    rows = [
        ("bare Litestar GET endpoint (ceiling)", r["bare"]),
        ("GET /api/v1/entries/{id}", r["get_entry"]),
        (f"bare endpoint, {r['clients']} clients", r["bare_concurrent"]),
        (f"GET /api/v1/entries/{{id}}, {r['clients']} clients", r["get_entry_concurrent"]),
    ]
    lines = [
        f"entries in the account: {r['entries']:,} (+{OTHER_ACCOUNTS} accounts of "
        f"{r['entries'] // 10:,}); load average {', '.join(f'{x:.1f}' for x in r['load_average'])}",
        "",
        "| call | calls/s | p50 ms | p95 ms | server CPU ms/call |",
        "|---|---|---|---|---|",
    ]
    for name, s in rows:
        cpu = s.get("server_cpu_ms", "")
        lines.append(f"| {name} | {s['calls_per_s']} | {s['p50_ms']} | {s['p95_ms']} | {cpu} |")
    lines += [
        "",
        f"GET /api/v1/entries/{{id}} vs bare, one client: {r['ratio']:.0%} (target ≥ 50 %)",
        f"same, {r['clients']} clients: {r['ratio_concurrent']:.0%}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="500 calls instead of 2,000")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        results = run(args.entries, quick=args.quick, clients=args.clients, workdir=Path(tmp))
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(json.dumps(results, indent=1) if args.json else report(results))


if __name__ == "__main__":
    main()
