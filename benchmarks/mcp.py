"""MCP over HTTP benchmark: ``trace serve`` as a real process, tool calls with a bearer key.

1. A SQLite data directory is built through the composition root (migrations) and
   loaded from the deterministic corpus: the measured account holds ENTRIES
   entries (default 100,000), four other accounts ENTRIES/10 each. A Full Access
   API key is created for the measured account.
2. ``trace serve`` starts on a free port (rate limit raised out of the way); the
   time from process start to the first answered MCP request is recorded, on the
   second start (the first writes the byte-compiled ``.pyc`` files an installed
   server would have; ``PYTHONDONTWRITEBYTECODE`` is dropped for the server).
3. A bare Litestar JSON endpoint (parse a JSON body, answer a JSON object) runs
   under the same uvicorn settings as the ceiling.
4. One client (HTTP/1.1 keep-alive) sends stateless JSON-RPC ``tools/call``
   requests (protocol 2025-06-18; ``get_entry`` also as 2026-07-28 single
   exchanges), one after another, with ``Authorization: Bearer``: ``get_entry`` on
   random live entries, ``list_entries`` first pages (default arguments: 50 entries
   with content), ``search_entries`` on corpus words, ``create_entry``; and the same
   loop against the bare endpoint. Calls/s and p50/p95 latency per tool; then
   ``get_entry`` again with 4 concurrent clients for the throughput ratio.
5. The server's peak RSS (``VmHWM``) after the load.
6. What an answer costs the client (issue 12, item 7): the same 10-hit
   ``search_entries`` (default arguments, ``limit`` 10) sent as raw HTTP and
   through the official SDK client (``mcp.Client`` over Streamable HTTP, which
   validates every ``structuredContent`` against the tool's output schema), in
   alternating blocks on one server; the client's cost per call is the SDK's
   mean minus the raw mean. Beside it, the SDK's own validation step alone
   (its compiled ``jsonschema`` validator on the answer), in-process.

    uv run python -m benchmarks.mcp                  # 100k entries
    uv run python -m benchmarks.mcp --entries 10000 --quick
    uv run python -m benchmarks.mcp --entries 1000 --startup-only 5   # start-up time only
    uv run python -m benchmarks.mcp --entries 10000 --compare-synchronous 3
    uv run python -m benchmarks.mcp --entries 10000 --client-cost 300
        # only step 6: the client's cost of a 10-hit search, raw HTTP vs SDK client
        # create_entry with storage.sqlite_synchronous full vs normal, alternating servers
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from benchmarks.corpus import WORDS, account_document
from litestar import Litestar, post

ROOT = Path(__file__).resolve().parent.parent
SEED = 20260124
OTHER_ACCOUNTS = 4
HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "Mcp-Protocol-Version": "2025-06-18",
}


# --- the ceiling: a bare Litestar JSON endpoint -------------------------------------------


@post("/bare", status_code=200, sync_to_thread=False)
def _bare(data: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": data.get("id"), "result": {"ok": True}}


def bare_app() -> Litestar:
    """The ceiling: Litestar decoding a JSON body and answering JSON, nothing else."""
    return Litestar([_bare], openapi_config=None)


# --- helpers ------------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    """Return the q-th percentile (0-100) of ``samples``, nearest-rank."""
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[k]


def summary(samples: list[float], elapsed: float) -> dict[str, float]:
    """Calls/s and latency figures (samples in seconds)."""
    return {
        "calls_per_s": round(len(samples) / elapsed, 1),
        "p50_ms": round(percentile(samples, 50) * 1000, 2),
        "p95_ms": round(percentile(samples, 95) * 1000, 2),
        "mean_ms": round(statistics.fmean(samples) * 1000, 2),
        "n": len(samples),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size of a process (Linux ``VmHWM``), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def current_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


# --- data ---------------------------------------------------------------------------------


async def build_data(data_dir: Path, entries: int) -> dict[str, Any]:
    """Create, migrate and load the database; return the key and some ids to call with."""
    from trace_core.model import EntryFilter, Principal, Scope
    from trace_core.transfer import import_account
    from trace_http.bootstrap import open_runtime
    from trace_http.settings import Settings, StorageSettings

    settings = Settings(storage=StorageSettings(data_dir=str(data_dir)))
    started = time.perf_counter()
    async with open_runtime(settings) as runtime:
        trace = runtime.trace
        measured = None
        for index in range(OTHER_ACCOUNTS + 1):
            n = entries if index == 0 else max(1, entries // 10)
            document = account_document(seed=SEED, account_index=index, entries=n)
            account = await trace.create_account(document.account.email)
            await import_account(trace.storage, trace.blobs, account.account_id, document)
            if index == 0:
                measured = account
        assert measured is not None
        key = await runtime.api_keys.create(measured.account_id, "benchmark", Scope.FULL)
        principal = Principal(
            account_id=measured.account_id, scopes=frozenset({Scope.READ}), actor="bench"
        )
        page = await trace.list_entries(principal, EntryFilter(is_archived=None), limit=100)
        ids = [str(e.entry_id) for e in page.items]
        more = await trace.list_entries(
            principal, EntryFilter(is_archived=None), limit=100, offset=entries // 2
        )
        ids += [str(e.entry_id) for e in more.items]
    return {
        "key": key.plaintext,
        "entry_ids": ids,
        "load_s": round(time.perf_counter() - started, 1),
    }


# --- servers ------------------------------------------------------------------------------


def start_trace(
    data_dir: Path, port: int, key: str, *, synchronous: str = "full"
) -> tuple[subprocess.Popen[bytes], float]:
    """Start ``trace serve``; return it and the seconds until it first answered an MCP call."""
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            # Byte-compiled modules are cached as an installed server's would be
            # (the first start writes the .pyc files, later starts are warm).
            if not k.startswith("TRACE_") and k != "PYTHONDONTWRITEBYTECODE"
        },
        "TRACE_DATA_DIR": str(data_dir),
        "TRACE_LOG_LEVEL": "warning",
        "TRACE_MCP_RATE_LIMIT_BURST": "100000000",
        "TRACE_MCP_RATE_LIMIT_PER_SECOND": "100000000",
        "TRACE_STORAGE_SQLITE_SYNCHRONOUS": synchronous,
    }
    trace_bin = Path(sys.executable).parent / "trace"
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(trace_bin), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    body = {"jsonrpc": "2.0", "id": 0, "method": "tools/list", "params": {}}
    headers = {**HEADERS, "Authorization": f"Bearer {key}"}
    with httpx.Client(timeout=5) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError("trace serve exited during startup")
            try:
                response = client.post(f"http://127.0.0.1:{port}/mcp", json=body, headers=headers)
                if response.status_code == 200:
                    return process, time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.01)


def start_bare(port: int) -> subprocess.Popen[bytes]:
    """Start the bare Litestar endpoint under uvicorn with the same settings as ``trace serve``."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "benchmarks.mcp:bare_app",
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
                if client.post(f"http://127.0.0.1:{port}/bare", json={"id": 0}).status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            time.sleep(0.01)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- load ---------------------------------------------------------------------------------


MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "benchmark", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


def tool_call(n: int, name: str, arguments: dict[str, Any], *, modern: bool = False) -> bytes:
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    if modern:
        params["_meta"] = MODERN_META
    return json.dumps(
        {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": params}
    ).encode()


async def sequential(
    client: httpx.AsyncClient,
    url: str,
    bodies: list[bytes],
    headers: dict[str, str],
    pid: int | None = None,
) -> dict[str, float]:
    """Send the bodies one after another; check every answer; return the figures.

    With ``pid``, also the server's CPU milliseconds per call (load-independent).
    """
    samples: list[float] = []
    cpu = cpu_seconds(pid) if pid else 0.0
    started = time.perf_counter()
    for body in bodies:
        t0 = time.perf_counter()
        response = await client.post(url, content=body, headers=headers)
        samples.append(time.perf_counter() - t0)
        if response.status_code != 200 or b'"isError":true' in response.content:
            raise RuntimeError(f"bad answer {response.status_code}: {response.text[:300]}")
    result = summary(samples, time.perf_counter() - started)
    if pid:
        result["server_cpu_ms"] = round((cpu_seconds(pid) - cpu) / len(bodies) * 1000, 2)
    return result


async def concurrent(
    url: str, bodies: list[bytes], headers: dict[str, str], clients: int
) -> dict[str, float]:
    """Send the bodies from ``clients`` concurrent keep-alive connections."""
    queue = list(bodies)
    samples: list[float] = []

    async def worker() -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            while queue:
                body = queue.pop()
                t0 = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                samples.append(time.perf_counter() - t0)
                if response.status_code != 200:
                    raise RuntimeError(f"bad answer {response.status_code}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return summary(samples, time.perf_counter() - started)


async def measure(
    trace_url: str,
    bare_url: str,
    key: str,
    ids: list[str],
    *,
    scale: float,
    clients: int,
    trace_pid: int,
    bare_pid: int,
) -> dict[str, Any]:
    rng = random.Random(SEED)
    auth = {**HEADERS, "Authorization": f"Bearer {key}"}
    n_get, n_list, n_search, n_create = (int(x * scale) for x in (2000, 200, 400, 1000))
    gets = [tool_call(i, "get_entry", {"entry_id": rng.choice(ids)}) for i in range(n_get)]
    lists = [tool_call(i, "list_entries", {}) for i in range(n_list)]
    searches = [
        tool_call(i, "search_entries", {"query": " ".join(rng.sample(WORDS, 2))})
        for i in range(n_search)
    ]
    creates = [
        tool_call(i, "create_entry", {"content": f"benchmark note {i}", "tags": ["bench"]})
        for i in range(n_create)
    ]
    bares = [tool_call(i, "get_entry", {"entry_id": rng.choice(ids)}) for i in range(n_get)]
    modern_gets = [
        tool_call(i, "get_entry", {"entry_id": rng.choice(ids)}, modern=True) for i in range(n_get)
    ]
    modern = {
        **auth,
        "Mcp-Protocol-Version": "2026-07-28",
        "Mcp-Method": "tools/call",
        "Mcp-Name": "get_entry",
    }
    pings = [
        json.dumps({"jsonrpc": "2.0", "id": i, "method": "ping"}).encode() for i in range(n_get)
    ]
    results: dict[str, Any] = {}
    async with httpx.AsyncClient(timeout=60) as client:
        # Warm both servers (imports, caches, connection) before timing anything.
        await sequential(client, bare_url, bares[:50], HEADERS)
        await sequential(client, trace_url, gets[:50], auth)
        t, b = trace_pid, bare_pid
        results["bare"] = await sequential(client, bare_url, bares, HEADERS, b)
        results["ping"] = await sequential(client, trace_url, pings, auth, t)
        results["get_entry"] = await sequential(client, trace_url, gets, auth, t)
        results["get_entry_modern"] = await sequential(client, trace_url, modern_gets, modern, t)
        results["list_entries"] = await sequential(client, trace_url, lists, auth, t)
        results["search_entries"] = await sequential(client, trace_url, searches, auth, t)
        results["create_entry"] = await sequential(client, trace_url, creates, auth, t)
    results["bare_concurrent"] = await concurrent(bare_url, bares, HEADERS, clients)
    results["get_entry_concurrent"] = await concurrent(trace_url, gets, auth, clients)
    results["client_cost"] = await client_cost(trace_url, key, rng, calls=int(200 * scale))
    return results


async def client_cost(url: str, key: str, rng: random.Random, *, calls: int) -> dict[str, Any]:
    """Time a 10-hit ``search_entries`` as raw HTTP and through the SDK client, same server.

    Both speak the protocol the SDK client chooses (2026-07-28 single exchanges);
    blocks of each alternate so both see the same load. The SDK figure includes
    its transport, result parsing and output-schema validation; the raw figure
    only the HTTP exchange, so the difference is what the client adds per call.
    """
    import httpx2
    from jsonschema.validators import validator_for
    from mcp.client.streamable_http import streamable_http_client

    from mcp import Client

    queries = [" ".join(rng.sample(WORDS[20:], 2)) for _ in range(calls)]
    # Every other call is the control: a word no entry has, so the same work with an
    # (almost) empty answer; what the SDK adds to it is its fixed cost per call.
    arguments = [
        {"query": q if i % 2 == 0 else f"zzqx{i}", "limit": 10} for i, q in enumerate(queries)
    ]
    headers = {
        **HEADERS,
        "Authorization": f"Bearer {key}",
        "Mcp-Protocol-Version": "2026-07-28",
        "Mcp-Method": "tools/call",
        "Mcp-Name": "search_entries",
    }
    bodies = [tool_call(i, "search_entries", a, modern=True) for i, a in enumerate(arguments)]
    raw: list[float] = []
    sdk: list[float] = []
    sizes: list[int] = []
    empty_raw: list[float] = []
    empty_sdk: list[float] = []
    # The client's own CPU time (this process), which the server's load does not move.
    cpu = {"raw": 0.0, "sdk": 0.0, "empty_raw": 0.0, "empty_sdk": 0.0}
    hits: list[int] = []
    block = max(1, calls // 5)
    async with (
        httpx.AsyncClient(timeout=60) as plain,
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        listed = await client.list_tools()  # what the SDK caches and validates against
        schema = next(t.output_schema for t in listed.tools if t.name == "search_entries")
        for a in arguments[:20]:  # warm both paths
            await client.call_tool("search_entries", a)
            await plain.post(url, content=bodies[0], headers=headers)
        for start in range(0, calls, block):
            for i in range(start, min(start + block, calls)):
                c0, t0 = time.process_time(), time.perf_counter()
                response = await plain.post(url, content=bodies[i], headers=headers)
                (raw if i % 2 == 0 else empty_raw).append(time.perf_counter() - t0)
                cpu["raw" if i % 2 == 0 else "empty_raw"] += time.process_time() - c0
                if i % 2 == 0:
                    sizes.append(len(response.content))
            for i in range(start, min(start + block, calls)):
                c0, t0 = time.process_time(), time.perf_counter()
                result = await client.call_tool("search_entries", arguments[i])
                (sdk if i % 2 == 0 else empty_sdk).append(time.perf_counter() - t0)
                cpu["sdk" if i % 2 == 0 else "empty_sdk"] += time.process_time() - c0
                if result.is_error:
                    raise RuntimeError(f"search failed: {result.content}")
                if i % 2 == 0:
                    hits.append(len((result.structured_content or {}).get("entries", [])))
                    answer = result.structured_content
    validator = validator_for(schema)(schema)
    repeats = 500
    t0 = time.perf_counter()
    for _ in range(repeats):
        errors = list(validator.iter_errors(answer))
    validate_ms = (time.perf_counter() - t0) / repeats * 1000
    if errors:
        raise RuntimeError(f"the answer does not fit its schema: {errors[0]}")
    raw_ms = statistics.fmean(raw) * 1000
    sdk_ms = statistics.fmean(sdk) * 1000
    fixed_ms = (statistics.fmean(empty_sdk) - statistics.fmean(empty_raw)) * 1000
    cpu_ms = {
        name: total / (len(raw) if "empty" not in name else len(empty_raw)) * 1000
        for name, total in cpu.items()
    }
    return {
        "calls": calls,
        "mean_hits": round(statistics.fmean(hits), 1),
        "answer_bytes_mean": round(statistics.fmean(sizes)),
        "raw_mean_ms": round(raw_ms, 2),
        "sdk_mean_ms": round(sdk_ms, 2),
        "raw_p50_ms": round(percentile(raw, 50) * 1000, 2),
        "sdk_p50_ms": round(percentile(sdk, 50) * 1000, 2),
        "client_cpu_ms_raw": round(cpu_ms["raw"], 2),
        "client_cpu_ms_sdk": round(cpu_ms["sdk"], 2),
        "client_cpu_ms_per_call": round(cpu_ms["sdk"] - cpu_ms["raw"], 2),
        "client_cpu_ms_empty_answer": round(cpu_ms["empty_sdk"] - cpu_ms["empty_raw"], 2),
        "client_ms_per_call": round(sdk_ms - raw_ms, 2),
        "client_ms_per_call_p50": round((percentile(sdk, 50) - percentile(raw, 50)) * 1000, 2),
        "client_ms_empty_answer": round(fixed_ms, 2),
        "client_ms_for_the_answer": round(sdk_ms - raw_ms - fixed_ms, 2),
        "schema_validation_ms": round(validate_ms, 3),
        "output_schema_chars": len(json.dumps(schema, separators=(",", ":"))),
    }


# --- main ---------------------------------------------------------------------------------


def run(entries: int, *, quick: bool, clients: int, workdir: Path) -> dict[str, Any]:
    data_dir = workdir / "data"
    print(f"loading {entries} entries (+{OTHER_ACCOUNTS} other accounts)...", file=sys.stderr)
    data = asyncio.run(build_data(data_dir, entries))
    trace_port, bare_port = free_port(), free_port()
    # A first start byte-compiles whatever no earlier run did (.pyc); time the second.
    first_start, first_start_s = start_trace(data_dir, trace_port, data["key"])
    stop(first_start)
    server, first_answer_s = start_trace(data_dir, trace_port, data["key"])
    startup_cpu_s = cpu_seconds(server.pid)
    bare = start_bare(bare_port)
    try:
        idle_rss = current_rss_mb(server.pid)
        results = asyncio.run(
            measure(
                f"http://127.0.0.1:{trace_port}/mcp",
                f"http://127.0.0.1:{bare_port}/bare",
                data["key"],
                data["entry_ids"],
                scale=0.25 if quick else 1.0,
                clients=clients,
                trace_pid=server.pid,
                bare_pid=bare.pid,
            )
        )
        results["server_peak_rss_mb"] = peak_rss_mb(server.pid)
        results["server_idle_rss_mb"] = idle_rss
        results["bare_peak_rss_mb"] = peak_rss_mb(bare.pid)
    finally:
        stop(server)
        stop(bare)
    results["first_answer_s"] = round(first_answer_s, 2)
    results["first_answer_first_start_s"] = round(first_start_s, 2)
    results["startup_cpu_s"] = round(startup_cpu_s, 2)
    results["entries"] = entries
    results["load_s"] = data["load_s"]
    results["ratio_get_entry_vs_bare"] = round(
        results["get_entry"]["calls_per_s"] / results["bare"]["calls_per_s"], 3
    )
    results["ratio_get_entry_vs_bare_concurrent"] = round(
        results["get_entry_concurrent"]["calls_per_s"] / results["bare_concurrent"]["calls_per_s"],
        3,
    )
    results["load_average"] = os.getloadavg()
    return results


def report(r: dict[str, Any]) -> str:
    rows = [
        ("bare Litestar JSON endpoint (ceiling)", r["bare"]),
        ("MCP ping (auth + SDK, no tool)", r["ping"]),
        ("get_entry", r["get_entry"]),
        ("get_entry, protocol 2026-07-28 (the SDK client's default)", r["get_entry_modern"]),
        ("list_entries (50 entries with content)", r["list_entries"]),
        ("search_entries (2 words, 20 hits)", r["search_entries"]),
        ("create_entry", r["create_entry"]),
        (f"bare endpoint, {r['clients']} clients", r["bare_concurrent"]),
        (f"get_entry, {r['clients']} clients", r["get_entry_concurrent"]),
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
        f"- get_entry / bare endpoint: {r['ratio_get_entry_vs_bare']:.0%} (one client), "
        f"{r['ratio_get_entry_vs_bare_concurrent']:.0%} ({r['clients']} clients)",
        f"- server RSS: {r['server_idle_rss_mb']} MB after the first call, "
        f"peak {r['server_peak_rss_mb']} MB under load (bare endpoint: {r['bare_peak_rss_mb']} MB)",
        f"- first answered MCP request {r['first_answer_s']} s after `trace serve` started "
        f"({r['startup_cpu_s']} CPU s: imports, migration check, app), second start "
        f"(.pyc cached); first start {r['first_answer_first_start_s']} s",
    ]
    c = r["client_cost"]
    lines += [
        f"- client cost of a 10-hit search_entries ({c['calls']} calls, {c['mean_hits']} hits, "
        f"{c['answer_bytes_mean']:,} bytes): raw HTTP {c['raw_mean_ms']} ms, SDK client "
        f"{c['sdk_mean_ms']} ms (p50 {c['raw_p50_ms']} / {c['sdk_p50_ms']}): "
        f"{c['client_ms_per_call']} ms more wall time through the SDK; the client's own CPU "
        f"**{c['client_cpu_ms_per_call']} ms per call more through the SDK** (target <= 2 ms; "
        f"{c['client_cpu_ms_empty_answer']} ms for the same search finding nothing); "
        f"output-schema validation alone "
        f"{c['schema_validation_ms']} ms "
        f"({c['output_schema_chars']} characters of schema)",
    ]
    return "\n".join(lines)


def run_startup(entries: int, starts: int, workdir: Path) -> dict[str, Any]:
    """Start ``trace serve`` ``starts`` times on one database; time each to its first answer.

    The first start may byte-compile modules (``.pyc``) that no earlier run wrote;
    later starts are warm.
    """
    data_dir = workdir / "data"
    data = asyncio.run(build_data(data_dir, entries))
    runs = []
    for _ in range(starts):
        server, first_answer_s = start_trace(data_dir, free_port(), data["key"])
        try:
            runs.append(
                {
                    "first_answer_s": round(first_answer_s, 3),
                    "startup_cpu_s": round(cpu_seconds(server.pid), 3),
                    "rss_mb": current_rss_mb(server.pid),
                }
            )
        finally:
            stop(server)
    warm = runs[1:] or runs
    return {
        "entries": entries,
        "runs": runs,
        "warm_first_answer_s_median": statistics.median(r["first_answer_s"] for r in warm),
        "warm_startup_cpu_s_median": statistics.median(r["startup_cpu_s"] for r in warm),
        "load_average": os.getloadavg(),
    }


def run_synchronous_comparison(
    entries: int, rounds: int, calls: int, workdir: Path
) -> dict[str, Any]:
    """Time ``create_entry`` under ``storage.sqlite_synchronous`` full and normal.

    One database; servers with either setting are started in turn (full, normal,
    full, normal, ...) so both see the same machine load; each round sends
    ``calls`` sequential ``create_entry`` calls after a warm-up.
    """
    data_dir = workdir / "data"
    data = asyncio.run(build_data(data_dir, entries))
    auth = {**HEADERS, "Authorization": f"Bearer {data['key']}"}
    runs: dict[str, list[dict[str, float]]] = {"full": [], "normal": []}

    async def creates(url: str, pid: int, label: str) -> dict[str, float]:
        bodies = [
            tool_call(i, "create_entry", {"content": f"{label} note {i}", "tags": ["bench"]})
            for i in range(calls + 20)
        ]
        async with httpx.AsyncClient(timeout=60) as client:
            await sequential(client, url, bodies[:20], auth)
            return await sequential(client, url, bodies[20:], auth, pid)

    for index in range(rounds):
        for mode in ("full", "normal"):
            port = free_port()
            server, _ = start_trace(data_dir, port, data["key"], synchronous=mode)
            try:
                url = f"http://127.0.0.1:{port}/mcp"
                runs[mode].append(asyncio.run(creates(url, server.pid, f"{mode}{index}")))
            finally:
                stop(server)
            print(f"{mode} round {index + 1}: {runs[mode][-1]}", file=sys.stderr, flush=True)

    def median(mode: str, key: str) -> float:
        return float(statistics.median(r[key] for r in runs[mode]))

    return {
        "entries": entries,
        "rounds": rounds,
        "calls": calls,
        "runs": runs,
        "median": {
            mode: {k: median(mode, k) for k in ("calls_per_s", "p50_ms", "p95_ms", "server_cpu_ms")}
            for mode in runs
        },
        "ratio_full_vs_normal_calls_per_s": round(
            median("full", "calls_per_s") / median("normal", "calls_per_s"), 3
        ),
        "load_average": os.getloadavg(),
    }


def run_client_cost(entries: int, calls: int, workdir: Path) -> dict[str, Any]:
    """Only step 6: start one server and time a 10-hit search raw and through the SDK."""
    data_dir = workdir / "data"
    data = asyncio.run(build_data(data_dir, entries))
    port = free_port()
    server, _ = start_trace(data_dir, port, data["key"])
    try:
        rng = random.Random(SEED)
        url = f"http://127.0.0.1:{port}/mcp"
        figures = asyncio.run(client_cost(url, data["key"], rng, calls=calls))
    finally:
        stop(server)
    return {"entries": entries, **figures, "load_average": os.getloadavg()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="a quarter of the calls")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--startup-only",
        type=int,
        metavar="N",
        help="only start `trace serve` N times and time each to its first answer",
    )
    parser.add_argument(
        "--compare-synchronous",
        type=int,
        metavar="ROUNDS",
        help="only time create_entry with storage.sqlite_synchronous full vs normal",
    )
    parser.add_argument("--calls", type=int, default=1000, help="create_entry calls per round")
    parser.add_argument(
        "--client-cost",
        type=int,
        metavar="CALLS",
        help="only time a 10-hit search as raw HTTP and through the SDK client (CALLS each)",
    )
    args = parser.parse_args(argv)
    if args.client_cost:
        with tempfile.TemporaryDirectory(prefix="trace-bench-mcp-") as tmp:
            figures = run_client_cost(args.entries, args.client_cost, Path(tmp))
        print(json.dumps(figures, indent=2))
        return
    if args.compare_synchronous:
        with tempfile.TemporaryDirectory(prefix="trace-bench-mcp-") as tmp:
            figures = run_synchronous_comparison(
                args.entries, args.compare_synchronous, args.calls, Path(tmp)
            )
        print(json.dumps(figures, indent=2))
        return
    if args.startup_only:
        with tempfile.TemporaryDirectory(prefix="trace-bench-mcp-") as tmp:
            figures = run_startup(args.entries, args.startup_only, Path(tmp))
        print(json.dumps(figures, indent=2))
        return
    with tempfile.TemporaryDirectory(prefix="trace-bench-mcp-") as tmp:
        results = run(args.entries, quick=args.quick, clients=args.clients, workdir=Path(tmp))
    results["clients"] = args.clients
    results["python"] = platform.python_version()
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
