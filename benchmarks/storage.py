"""Storage benchmark: writes and reads through the ``Trace`` facade on SQLite and Postgres.

For each backend and size (entries in the measured account):

1. a fresh database is built by the composition root (``build_trace``, which
   migrates), and loaded from the deterministic corpus with the bulk import
   (``import_account``): the measured account holds SIZE entries, four other
   accounts hold SIZE/10 each, so every query has other tenants' rows to skip;
2. ``create_entry`` is called N times in a row (inserts/s, p50/p95);
3. ``get_entry`` on random live entries, and ``list_entries`` first pages
   (no filter; one stream; one tag; a date range; offset 500) give p50/p95, and
   ``image_counts`` of the first page (the one query MCP listings add for
   ``image_count``, with images on a third of the page).

Then ``trace import`` runs as a real process on a 10k-entry export file (sizes:
``--import-entries``), on a fresh data directory, to measure what an operator
sees (process start and JSON decoding included).

    uv run python -m benchmarks.storage                       # 10k and 100k, SQLite and Postgres
    uv run python -m benchmarks.storage --sizes 10000 --backends sqlite --quick
    uv run python -m benchmarks.storage --backends sqlite,sqlite-normal   # the cost of FULL sync

Backend ``sqlite`` runs with the default ``storage.sqlite_synchronous = "full"``;
``sqlite-normal`` is the same with ``"normal"`` (commits not synced to disk until
a checkpoint), so one run gives the price of durable commits as a ratio.

Postgres: ``TRACE_TEST_POSTGRES_URL`` (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``)
names a server where a throwaway database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from benchmarks.corpus import account_document
from sqlalchemy.engine import make_url

from trace_core.model import EntryDraft, EntryFilter, Principal
from trace_core.service import Trace
from trace_core.testing.images import png_bytes
from trace_core.transfer import encode_document, import_account
from trace_http.bootstrap import open_trace
from trace_http.settings import Settings, StorageSettings
from trace_sql.engine import create_engine

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SEED = 20260124
OTHER_ACCOUNTS = 4


def percentile(samples: list[float], q: float) -> float:
    """Return the q-th percentile (0-100) of ``samples``, nearest-rank."""
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[k]


def summary_ms(samples: list[float]) -> dict[str, float]:
    """p50/p95/mean of samples given in seconds, in milliseconds."""
    return {
        "p50_ms": round(percentile(samples, 50) * 1000, 3),
        "p95_ms": round(percentile(samples, 95) * 1000, 3),
        "mean_ms": round(statistics.fmean(samples) * 1000, 3),
        "n": len(samples),
    }


async def timed(calls: list[Callable[[], Awaitable[Any]]]) -> list[float]:
    """Await each call in turn; return each one's duration in seconds."""
    out = []
    for call in calls:
        start = time.perf_counter()
        await call()
        out.append(time.perf_counter() - start)
    return out


# --- databases ------------------------------------------------------------------------


@asynccontextmanager
async def database(backend: str, workdir: Path, label: str) -> AsyncIterator[str]:
    """Yield the URL of a new, empty database; drop it afterwards."""
    if backend.startswith("sqlite"):
        # A new file each time, so a backend may be listed twice (alternating runs).
        yield f"sqlite+aiosqlite:///{workdir / f'{backend}-{label}-{uuid.uuid4().hex[:6]}.db'}"
        return
    admin_url = make_url(os.environ.get("TRACE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    name = f"trace_bench_{os.getpid()}_{label}_{uuid.uuid4().hex[:6]}"

    async def admin(statement: str) -> None:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(sa.text(statement))
        finally:
            await engine.dispose()

    await admin(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_synchronous(backend: str) -> Literal["full", "normal"]:
    """``storage.sqlite_synchronous`` for a backend name (``sqlite-normal``: relaxed)."""
    return "normal" if backend == "sqlite-normal" else "full"


def settings_for(url: str, data_dir: Path, backend: str = "sqlite") -> Settings:
    """Settings pointing the composition root at ``url`` and a blob directory."""
    return Settings(
        storage=StorageSettings(
            data_dir=str(data_dir),
            database_url=url,
            sqlite_synchronous=sqlite_synchronous(backend),
        )
    )


# --- the facade benchmark ---------------------------------------------------------------


async def load(
    trace: Trace, size: int, *, others: int = OTHER_ACCOUNTS, other_size: int | None = None
) -> dict[str, Any]:
    """Load the corpus: the measured account (``size`` entries) and ``others`` other tenants.

    Each other tenant holds ``other_size`` entries (default: a tenth of ``size``).
    """
    result: dict[str, Any] = {}
    for index in range(others + 1):
        n = size if index == 0 else (other_size or max(1, size // 10))
        document = account_document(seed=SEED, account_index=index, entries=n)
        account = await trace.create_account(document.account.email, name=document.account.name)
        start, cpu = time.perf_counter(), time.process_time()
        await import_account(trace.storage, trace.blobs, account.account_id, document)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        if index == 0:
            result = {
                "account": account,
                "document": document,
                "import_s": round(elapsed, 2),
                "import_entries_per_s": round(n / elapsed),
                # CPU seconds of this process (SQLite works in our threads): what
                # the figure would be on an idle machine, for SQLite only.
                "import_entries_per_cpu_s": round(n / cpu),
            }
    return result


async def bench_facade(
    backend: str, size: int, *, inserts: int, samples: int, workdir: Path
) -> dict[str, Any]:
    """Run the facade benchmark for one backend and size; return the figures."""
    async with database(backend, workdir, f"facade{size}") as url:
        data_dir = workdir / f"data-{backend}-{size}"
        async with open_trace(settings_for(url, data_dir, backend)) as trace:
            loaded = await load(trace, size)
            account = loaded["account"]
            document = loaded["document"]
            who: Principal = trace.principal_for(account, actor="bench")
            rng = random.Random(SEED)

            # create_entry, one after another, into streams and the Inbox.
            stream_ids = [s.stream_id for s in document.streams]
            drafts = [
                EntryDraft(
                    content=document.entries[i % len(document.entries)].content,
                    title=f"Bench {i}",
                    stream_id=rng.choice(stream_ids) if i % 5 else None,
                    tags=("bench", f"t{i % 7}"),
                    entry_date=date(2026, 1, 1 + i % 28),
                )
                for i in range(inserts)
            ]
            start = time.perf_counter()
            insert_times = await timed(
                [lambda d=d: trace.create_entry(who, d) for d in drafts]  # type: ignore[misc]
            )
            insert_elapsed = time.perf_counter() - start

            live = [e.entry_id for e in document.entries if e.deleted_at is None]
            picks = [rng.choice(live) for _ in range(samples)]
            get_times = await timed(
                [lambda e=e: trace.get_entry(who, e) for e in picks]  # type: ignore[misc]
            )

            common_tag = "work"
            filters = {
                "no filter": EntryFilter(),
                "one stream": EntryFilter(stream=stream_ids[0]),
                "one tag": EntryFilter(tags=(common_tag,)),
                "date range": EntryFilter(start_date=date(2024, 3, 1), end_date=date(2024, 6, 30)),
            }
            lists: dict[str, dict[str, float]] = {}
            per_variant = max(30, samples // 10)
            for name, f in filters.items():
                times = await timed(
                    [lambda f=f: trace.list_entries(who, f, limit=50)] * per_variant  # type: ignore[misc]
                )
                lists[name] = summary_ms(times)
            times = await timed(
                [lambda: trace.list_entries(who, EntryFilter(), limit=50, offset=500)] * per_variant
            )
            lists["offset 500"] = summary_ms(times)
            # The other orders sort the account's matches (no index walks them).
            orders: dict[str, dict[str, Any]] = {
                "sort -priority": {"sort": "-priority"},
                "sort due_date": {"sort": "due_date"},
                "overdue": {"overdue": True},
            }
            for name, order in orders.items():
                times = await timed(
                    [lambda o=order: trace.list_entries(who, EntryFilter(), limit=50, **o)]  # type: ignore[misc]
                    * per_variant
                )
                lists[name] = summary_ms(times)
            # What list_entries and search_entries over MCP add: one count of the page's
            # images (a third of the first page's entries get an image first).
            page = await trace.list_entries(who, EntryFilter(), limit=50)
            for n, entry in enumerate(page.items[::3]):
                await trace.add_attachment(who, entry.entry_id, png_bytes(seed=n))
            page_ids = [e.entry_id for e in page.items]
            times = await timed([lambda: trace.image_counts(who, page_ids)] * per_variant)
            lists["image_counts of that page (what MCP adds)"] = summary_ms(times)
            all_list_times: list[float] = []
            for _name, f in filters.items():
                all_list_times += await timed(
                    [lambda f=f: trace.list_entries(who, f, limit=50)] * 20  # type: ignore[misc]
                )

    return {
        "backend": backend,
        "size": size,
        "bulk_import_entries_per_s": loaded["import_entries_per_s"],
        "bulk_import_s": loaded["import_s"],
        "bulk_import_entries_per_cpu_s": loaded["import_entries_per_cpu_s"],
        "create_entry_per_s": round(inserts / insert_elapsed),
        "create_entry": summary_ms(insert_times),
        "get_entry": summary_ms(get_times),
        "list_entries": lists,
    }


# --- trace import as a process -------------------------------------------------------


def bench_cli_import(backend: str, entries: int, workdir: Path) -> dict[str, Any]:
    """Time ``trace import`` of an ``entries``-entry export into a fresh database."""
    dump = workdir / f"import-{entries}.json"
    if not dump.exists():
        document = account_document(seed=SEED, account_index=0, entries=entries)
        dump.write_bytes(encode_document(document))
    trace_bin = str(Path(sys.executable).with_name("trace"))

    async def run() -> dict[str, Any]:
        async with database(backend, workdir, f"cli{entries}") as url:
            env = {
                **os.environ,
                "TRACE_DATA_DIR": str(workdir / f"cli-data-{backend}"),
                "TRACE_DATABASE_URL": url,
                "TRACE_STORAGE_SQLITE_SYNCHRONOUS": sqlite_synchronous(backend),
            }
            subprocess.run(  # noqa: ASYNC221 - a benchmark, nothing else runs on this loop
                [trace_bin, "user", "create", "user0@bench.example"],
                env=env,
                check=True,
                capture_output=True,
            )
            start = time.perf_counter()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(  # noqa: ASYNC221
                [trace_bin, "import", "--user", "user0@bench.example", str(dump)],
                env=env,
                check=True,
                capture_output=True,
            )
            elapsed = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return {
            "backend": backend,
            "entries": entries,
            "file_mb": round(dump.stat().st_size / 1e6, 1),
            "wall_s": round(elapsed, 2),
            "entries_per_s": round(entries / elapsed),
            "cpu_s": round(cpu, 2),
            "entries_per_cpu_s": round(entries / cpu),
        }

    return asyncio.run(run())


# --- report ---------------------------------------------------------------------------


def report(facade: list[dict[str, Any]], cli: list[dict[str, Any]]) -> str:
    """Format the results as Markdown tables."""
    lines = [
        "| backend | entries in account | create_entry/s | create_entry p50 / p95 ms "
        "| get_entry p50 / p95 ms | list_entries (no filter) p50 / p95 ms "
        "| bulk import entries/s (per CPU-s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in facade:
        c, g, lst = r["create_entry"], r["get_entry"], r["list_entries"]["no filter"]
        lines.append(
            f"| {r['backend']} | {r['size']:,} | {r['create_entry_per_s']:,} "
            f"| {c['p50_ms']:.2f} / {c['p95_ms']:.2f} | {g['p50_ms']:.2f} / {g['p95_ms']:.2f} "
            f"| {lst['p50_ms']:.2f} / {lst['p95_ms']:.2f} | {r['bulk_import_entries_per_s']:,} "
            f"({r['bulk_import_entries_per_cpu_s']:,}) |"
        )
    lines += [
        "",
        "| backend | entries in account | list_entries variant (limit 50) | p50 ms | p95 ms |",
        "|---|---:|---|---:|---:|",
    ]
    for r in facade:
        for name, s in r["list_entries"].items():
            lines.append(
                f"| {r['backend']} | {r['size']:,} | {name} | {s['p50_ms']:.2f} "
                f"| {s['p95_ms']:.2f} |"
            )
    if cli:
        lines += [
            "",
            "| backend | `trace import` entries | file MB | wall s (process start included) "
            "| entries/s | CPU s | entries per CPU-s |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in cli:
            lines.append(
                f"| {r['backend']} | {r['entries']:,} | {r['file_mb']} | {r['wall_s']} "
                f"| {r['entries_per_s']:,} | {r['cpu_s']} | {r['entries_per_cpu_s']:,} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print Markdown tables (and JSON with --json)."""
    parser = argparse.ArgumentParser(description="Trace storage benchmark")
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated entry counts")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--inserts", type=int, default=2000, help="create_entry calls")
    parser.add_argument("--samples", type=int, default=1000, help="get_entry calls")
    parser.add_argument(
        "--import-entries",
        default="10000",
        help="comma-separated sizes of the export files given to `trace import` ('' to skip)",
    )
    parser.add_argument("--quick", action="store_true", help="fewer calls (a smoke run)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.inserts, args.samples = 200, 200
    sizes = [int(s) for s in args.sizes.split(",") if s]
    backends = [b for b in args.backends.split(",") if b]

    facade: list[dict[str, Any]] = []
    cli: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="trace-bench-") as tmp:
        workdir = Path(tmp)
        for backend in backends:
            for size in sizes:
                print(f"facade: {backend} {size:,} entries ...", file=sys.stderr, flush=True)
                facade.append(
                    asyncio.run(
                        bench_facade(
                            backend,
                            size,
                            inserts=args.inserts,
                            samples=args.samples,
                            workdir=workdir,
                        )
                    )
                )
                print(json.dumps(facade[-1]), file=sys.stderr, flush=True)
            for entries in [int(n) for n in args.import_entries.split(",") if n]:
                print(f"trace import: {backend} {entries:,} ...", file=sys.stderr, flush=True)
                cli.append(bench_cli_import(backend, entries, workdir))
                print(json.dumps(cli[-1]), file=sys.stderr, flush=True)

    machine = (
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    # Other work on the machine slows every figure: say how busy it was.
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"<!-- {machine}, seed {SEED}, load average at the end: {load} -->")
    print(report(facade, cli))
    if args.json:
        args.json.write_text(json.dumps({"facade": facade, "cli": cli}, indent=2))


if __name__ == "__main__":
    main()
