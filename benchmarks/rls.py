"""Row-level security benchmark: what the second wall between tenants costs on PostgreSQL.

One database, loaded once from the deterministic corpus (the measured account
holds SIZE entries, four other accounts SIZE/10 each), then measured in
alternating rounds (after an ``ANALYZE``; the order flips every round):

``off``
    the tenant tables' row-level security switched off (``DISABLE`` / ``NO
    FORCE``), the storage connected as the login role with ``row_security=False``:
    no account setting is sent, as before migration ``0400``;
``on``
    row-level security on (``ENABLE`` / ``FORCE``, the policies of
    ``trace_sql.rls``), the storage running as an application role
    (``storage.database_app_role``): every unit of work sets the account first.

Each round times, through the ``Trace`` facade: ``get_entry``, ``list_entries``
(first page of 50, no filter and one tag), ``search_entries`` (one common word,
the fast path), ``create_entry`` and ``update_entry``. Figures are p50 and mean
per call over every round, and the ratio on/off.

    uv run python -m benchmarks.rls                # 20k entries, 4 rounds of 300 calls
    uv run python -m benchmarks.rls --size 5000 --samples 100 --rounds 2

``TRACE_TEST_POSTGRES_URL`` (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``)
names a server where a throwaway database and role are created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from benchmarks.storage import SEED, database, load, summary_ms, timed

from trace_core.model import EntryDraft, EntryFilter, EntryPatch, Principal
from trace_core.service import Trace
from trace_sql import FilesystemBlobStore, SqlStorage, create_storage
from trace_sql.engine import create_engine
from trace_sql.migrate import migrate_async
from trace_sql.rls import TENANT_TABLES, enable_statements, prepare_app_role
from trace_sql.search.postgres import PostgresSearchIndex

OPERATIONS = (
    "get_entry",
    "list_entries (no filter)",
    "list_entries (one tag)",
    "search_entries (one word)",
    "create_entry",
    "update_entry",
)


async def _admin(url: str, statements: list[str]) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def _switch(url: str, *, on: bool) -> None:
    statements: list[str] = []
    for table in TENANT_TABLES:
        if on:
            statements += enable_statements(table)[:2]
        else:
            statements += [
                f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
                f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
            ]
    await _admin(url, statements)


def _trace(storage: SqlStorage, blobs: Path) -> Trace:
    return Trace(
        storage=storage, blobs=FilesystemBlobStore(blobs), search=PostgresSearchIndex(storage)
    )


async def _round(
    trace: Trace, who: Principal, live: list[uuid.UUID], samples: int, rng: random.Random
) -> dict[str, list[float]]:
    picks = [rng.choice(live) for _ in range(samples)]
    out: dict[str, list[float]] = {}
    calls: dict[str, list[Callable[[], Awaitable[Any]]]] = {
        "get_entry": [lambda e=e: trace.get_entry(who, e) for e in picks],  # type: ignore[misc]
        "list_entries (no filter)": [lambda: trace.list_entries(who, EntryFilter(), limit=50)]
        * samples,
        "list_entries (one tag)": [
            lambda: trace.list_entries(who, EntryFilter(tags=("work",)), limit=50)
        ]
        * samples,
        "search_entries (one word)": [lambda: trace.search_entries(who, "meeting", limit=20)]
        * samples,
        "create_entry": [
            lambda i=i: trace.create_entry(  # type: ignore[misc]
                who, EntryDraft(content=f"bench note {i}", tags=("bench",), entry_date=date.today())
            )
            for i in range(samples)
        ],
        "update_entry": [
            lambda e=e: trace.update_entry(who, e, EntryPatch(is_pinned=rng.random() < 0.5))  # type: ignore[misc]
            for e in picks
        ],
    }
    for name in OPERATIONS:
        out[name] = await timed(calls[name])
    return out


async def run(size: int, samples: int, rounds: int) -> dict[str, Any]:
    """Load one database, then measure ``off`` and ``on`` alternately; return the figures."""
    workdir = Path(tempfile.mkdtemp(prefix="trace-rls-bench-"))
    role = f"trace_bench_app_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    async with database("postgres", workdir, "rls") as url:
        await migrate_async(url)
        await _admin(url, [f'CREATE ROLE "{role}" NOLOGIN'])
        try:
            owner = create_engine(url)
            try:
                async with owner.begin() as conn:
                    await prepare_app_role(conn, role)
            finally:
                await owner.dispose()
            loader = create_storage(url)
            try:
                loaded = await load(_trace(loader, workdir / "blobs"), size)
            finally:
                await loader.close()
            # Fresh planner statistics before either side is measured.
            await _admin(url, ["ANALYZE"])
            account, document = loaded["account"], loaded["document"]
            live = [e.entry_id for e in document.entries if e.deleted_at is None]
            times: dict[str, dict[str, list[float]]] = {"off": {}, "on": {}}
            for number in range(rounds):
                for mode in ("off", "on") if number % 2 == 0 else ("on", "off"):
                    await _switch(url, on=mode == "on")
                    storage = (
                        create_storage(url, app_role=role)
                        if mode == "on"
                        else create_storage(url, row_security=False)
                    )
                    try:
                        trace = _trace(storage, workdir / "blobs")
                        who = trace.principal_for(account, actor="bench")
                        await trace.get_entry(who, live[0])  # warm the pool
                        got = await _round(
                            trace, who, live, samples, random.Random(f"{SEED}/{number}")
                        )
                    finally:
                        await storage.close()
                    for name, samples_s in got.items():
                        times[mode].setdefault(name, []).extend(samples_s)
        finally:
            await _admin(url, [f'DROP OWNED BY "{role}"', f'DROP ROLE "{role}"'])
    result: dict[str, Any] = {"size": size, "samples_per_round": samples, "rounds": rounds}
    for name in OPERATIONS:
        off, on = summary_ms(times["off"][name]), summary_ms(times["on"][name])
        result[name] = {
            "off": off,
            "on": on,
            "p50_ratio": round(on["p50_ms"] / off["p50_ms"], 3),
            "mean_ratio": round(on["mean_ms"] / off["mean_ms"], 3),
        }
    return result


def report(result: dict[str, Any]) -> str:
    """Return the figures as a Markdown table."""
    lines = [
        f"{result['size']:,} entries in the measured account, "
        f"{result['rounds']} rounds x {result['samples_per_round']} calls per operation and mode",
        "",
        "| operation | off p50 ms | on p50 ms | p50 on/off "
        "| off mean ms | on mean ms | mean on/off |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in OPERATIONS:
        r = result[name]
        lines.append(
            f"| {name} | {r['off']['p50_ms']} | {r['on']['p50_ms']} | {r['p50_ratio']} "
            f"| {r['off']['mean_ms']} | {r['on']['mean_ms']} | {r['mean_ratio']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print a Markdown table and the JSON figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.size, args.samples, args.rounds))
    print(report(result))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
