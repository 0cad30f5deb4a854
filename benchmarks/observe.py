"""What the operator's view costs an MCP call: metrics and JSON access logs against neither.

One SQLite data directory (migrated through the composition root, ENTRIES entries
for one account, a Full Access API key) and three apps on it, built by the real
``create_app`` and driven in process (``httpx.ASGITransport``, no sockets, so the
figures are the app's own work):

- ``off``: metrics off, ``log.level = warning`` (no access line; the request-id
  wrapper still runs, as it always does);
- ``metrics``: ``metrics.enabled``, no access line;
- ``metrics+json``: ``metrics.enabled`` and ``log.format = "json"`` at ``info``,
  one access line per request formatted by structlog and written to /dev/null.

The variants take turns (ROUNDS rounds of CALLS sequential calls each, in rotating
order) so drift on a shared machine falls on all of them alike. Calls are
stateless JSON-RPC ``tools/call`` requests with ``Authorization: Bearer``:
``get_entry`` on random entries and ``create_entry``. Printed: median latency and
calls/s per variant and tool, and the ratio to ``off``.

    uv run python -m benchmarks.observe
    uv run python -m benchmarks.observe --entries 2000 --rounds 7 --calls 400
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import logging.config
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec

from trace_core.model import EntryDraft, Principal, Scope
from trace_http.bootstrap import open_runtime
from trace_http.settings import Settings
from trace_http.web.app import create_app
from trace_http.web.logformat import APP_LOGGERS, logging_config
from trace_http.web.logs import redact_secrets_in_logs

SEED = 20261205
VARIANTS = ("off", "metrics", "metrics+json")
PUBLIC = "http://127.0.0.1:8000"


def _settings(data_dir: Path) -> Settings:
    return msgspec.convert(
        {
            "server": {"public_url": PUBLIC},
            "storage": {"data_dir": str(data_dir), "maintenance_interval_seconds": 0},
            "mcp": {"rate_limit_burst": 10_000_000, "rate_limit_per_second": 10_000_000.0},
        },
        Settings,
    )


def _call(tool: str, arguments: dict[str, Any], request_id: int) -> bytes:
    message = {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    return json.dumps(message).encode()


def _configure_logging(variant: str, sink: Any) -> None:
    """Log as ``trace serve`` would for the variant, every handler writing to ``sink``."""
    json_lines = variant == "metrics+json"
    logging.config.dictConfig(
        logging_config("info" if json_lines else "warning", "json" if json_lines else "text")
    )
    redact_secrets_in_logs()
    for name in (*APP_LOGGERS, "uvicorn", "uvicorn.access"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sink)


async def _run(args: argparse.Namespace) -> None:
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as sink:  # noqa: ASYNC230
        async with open_runtime(_settings(Path(tmp))) as runtime:
            trace = runtime.trace
            account = await trace.create_account("bench@example.com")
            principal = Principal(
                account_id=account.account_id, scopes=frozenset({Scope.FULL}), actor="bench"
            )
            ids = []
            for n in range(args.entries):
                words = " ".join(
                    rng.choice(("notes", "plan", "walk", "tea", "draft")) for _ in range(40)
                )
                entry = await trace.create_entry(principal, EntryDraft(content=f"{n} {words}"))
                ids.append(str(entry.entry_id))
            key = (await runtime.api_keys.create(account.account_id, "bench", "full")).plaintext
            headers = {
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
                "Accept": "application/json, text/event-stream",
                "Mcp-Protocol-Version": "2025-06-18",
            }
            apps = {
                variant: create_app(
                    dataclasses.replace(
                        runtime,
                        options=msgspec.structs.replace(runtime.options, metrics=variant != "off"),
                    )
                )
                for variant in VARIANTS
            }
            latencies: dict[tuple[str, str], list[float]] = {
                (v, t): [] for v in VARIANTS for t in ("get_entry", "create_entry")
            }
            request_id = 0
            async with contextlib.AsyncExitStack() as stack:
                clients = {}
                for variant, app in apps.items():
                    await stack.enter_async_context(app.lifespan())
                    clients[variant] = await stack.enter_async_context(
                        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC)
                    )
                for round_number in range(args.rounds):
                    order = VARIANTS[round_number % 3 :] + VARIANTS[: round_number % 3]
                    for variant in order:
                        _configure_logging(variant, sink)
                        client = clients[variant]
                        for tool in ("get_entry", "create_entry"):
                            for _ in range(args.calls):
                                request_id += 1
                                arguments = (
                                    {"entry_id": rng.choice(ids)}
                                    if tool == "get_entry"
                                    else {"content": f"bench {request_id}"}
                                )
                                body = _call(tool, arguments, request_id)
                                started = time.perf_counter()
                                answer = await client.post("/mcp", content=body, headers=headers)
                                latencies[variant, tool].append(time.perf_counter() - started)
                                assert answer.status_code == 200, answer.text
            logging.config.dictConfig(logging_config("warning", "text"))

    print(
        f"benchmarks/observe.py: {args.entries} entries, {args.rounds} rounds x {args.calls} "
        f"calls per tool and variant; Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'tool':<14}{'variant':<14}{'p50 ms':>9}{'p95 ms':>9}{'calls/s':>10}{'vs off':>9}")
    for tool in ("get_entry", "create_entry"):
        base = statistics.median(latencies["off", tool])
        for variant in VARIANTS:
            values = sorted(latencies[variant, tool])
            p50 = statistics.median(values)
            p95 = values[int(len(values) * 0.95) - 1]
            print(
                f"{tool:<14}{variant:<14}{p50 * 1000:>9.3f}{p95 * 1000:>9.3f}"
                f"{1 / statistics.mean(values):>10.0f}{p50 / base:>8.3f}x"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--calls", type=int, default=300)
    asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
