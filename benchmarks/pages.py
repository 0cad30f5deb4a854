"""Server time to render the people's pages: the entry page and a stream page of 50 entries.

    uv run python -m benchmarks.pages --entries 100000

Loads one account of the deterministic corpus (``benchmarks/corpus.py``) into a
SQLite database (the default profile), builds the real app, signs a browser in
(a web session cookie, as ``/signin`` sets it) and asks for each page in
process (httpx's ASGI transport: no socket, so the time is the server's). Beside
them, in the same run: the facade calls each page makes without any HTML
(``get_entry``; ``get_stream`` + ``list_entries``), and a bare Litestar
endpoint answering a fixed HTML page over the same transport, so the figures
can be read as ratios on a loaded machine. Target: p50 ≤ 30 ms for both pages.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from benchmarks.corpus import account_document
from litestar import Litestar, MediaType, get

SEED = 1


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def timed(call: Callable[[], Awaitable[Any]], n: int) -> dict[str, float]:
    for _ in range(max(3, n // 20)):
        await call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "p50": statistics.median(samples),
        "p95": percentile(samples, 0.95),
        "mean": statistics.fmean(samples),
    }


def bare_app() -> Litestar:
    page = "<!doctype html><title>x</title>" + "<p>entry</p>" * 50

    @get("/bare", media_type=MediaType.HTML, sync_to_thread=False)
    def bare() -> str:
        return page

    return Litestar([bare], openapi_config=None)


async def run(entries: int, requests: int, workdir: Path) -> dict[str, Any]:
    from trace_core.model import EntryFilter, Principal, Scope
    from trace_core.transfer import import_account
    from trace_http.bootstrap import open_runtime
    from trace_http.settings import ServerSettings, Settings, StorageSettings
    from trace_http.web.app import create_app
    from trace_http.web.oauth import pages_for
    from trace_http.web.oauth._pages import SESSION_COOKIE

    public_url = "http://bench.local"
    settings = Settings(
        storage=StorageSettings(data_dir=str(workdir)),
        server=ServerSettings(public_url=public_url),
    )
    async with open_runtime(settings) as runtime:
        trace = runtime.trace
        started = time.perf_counter()
        document = account_document(seed=SEED, account_index=0, entries=entries)
        account = await trace.create_account(document.account.email)
        await import_account(trace.storage, trace.blobs, account.account_id, document)
        load_s = time.perf_counter() - started
        principal = Principal(
            account_id=account.account_id, scopes=frozenset({Scope.FULL}), actor="bench"
        )
        streams = await trace.list_streams(principal)
        stream = max(streams, key=lambda s: s.entry_count)
        # A typical entry: the median-length one of a page from the middle.
        middle = await trace.list_entries(principal, EntryFilter(), limit=100, offset=entries // 2)
        entry = sorted(middle.items, key=lambda e: len(e.content))[len(middle.items) // 2]

        app = create_app(runtime)
        session_id = await runtime.web_sessions.start(account.account_id)
        cookie = pages_for(runtime).cookies.sign(session_id)
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(
                transport=transport, base_url=public_url, cookies={SESSION_COOKIE: cookie}
            ) as browser,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=bare_app()), base_url=public_url
            ) as bare,
        ):

            async def entry_page() -> None:
                response = await browser.get(f"/entries/{entry.entry_id}")
                assert response.status_code == 200, response.status_code

            async def stream_page() -> None:
                response = await browser.get(f"/streams/{stream.stream_id}")
                assert response.status_code == 200, response.status_code
                assert response.text.count('class="entry-row"') == 50

            async def entry_facade() -> None:
                await trace.get_entry(principal, entry.entry_id)

            async def stream_facade() -> None:
                await trace.get_stream(principal, stream.stream_id)
                await trace.list_entries(principal, EntryFilter(stream=stream.stream_id), limit=50)

            async def bare_page() -> None:
                response = await bare.get("/bare")
                assert response.status_code == 200

            figures = {
                "bare Litestar HTML endpoint": await timed(bare_page, requests),
                "entry: facade get_entry": await timed(entry_facade, requests),
                "entry page /entries/{id}": await timed(entry_page, requests),
                "stream: facade get_stream + list_entries(50)": await timed(
                    stream_facade, requests
                ),
                "stream page /streams/{id} (50 entries)": await timed(stream_page, requests),
            }
    return {
        "entries": entries,
        "load_s": load_s,
        "stream_entries": stream.entry_count,
        "entry_chars": len(entry.content),
        "figures": figures,
    }


def report(result: dict[str, Any]) -> str:
    figures = result["figures"]
    bare = figures["bare Litestar HTML endpoint"]["p50"]
    lines = [
        f"{result['entries']:,} entries loaded in {result['load_s']:.0f} s; "
        f"stream of {result['stream_entries']:,} entries; entry of {result['entry_chars']:,} chars",
        "",
        "| what | p50 ms | p95 ms | p50 / bare endpoint |",
        "|---|---:|---:|---:|",
    ]
    for name, f in figures.items():
        lines.append(f"| {name} | {f['p50']:.2f} | {f['p95']:.2f} | {f['p50'] / bare:.1f}x |")
    for page in ("entry page /entries/{id}", "stream page /streams/{id} (50 entries)"):
        p50 = figures[page]["p50"]
        verdict = "meets" if p50 <= 30 else "misses"
        lines.append(f"\n{page}: p50 {p50:.1f} ms {verdict} the 30 ms target")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="trace-bench-pages-") as workdir:
        result = asyncio.run(run(args.entries, args.requests, Path(workdir)))
    print(report(result))


if __name__ == "__main__":
    main()
