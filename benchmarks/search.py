"""Search benchmark: ``search_entries`` through the ``Trace`` facade vs the raw engine query.

For each backend (SQLite FTS5, Postgres tsvector) and size (entries in the
measured account):

1. a fresh database is built by the composition root (``open_trace``: migrate,
   built-in SQL search index) and loaded from the deterministic corpus with the
   bulk import; the measured account holds SIZE entries and four other accounts
   SIZE/10 each (their rows are indexed too and must be skipped);
2. a mix of queries (one common word, two words, a natural-language question, a
   half-typed prefix, a query no entry fully matches so it is relaxed to any
   word, a query with a stream filter) runs through ``Trace.search_entries``
   (limit 20) and, in the same run, as the raw SQL the adapter sends (the
   prefix check on SQLite, the ranking query, the any-word retry when every
   word found nothing) on a bare driver connection: ``sqlite3`` on the same
   file, ``asyncpg`` on the same database. The ranking statement's text and
   parameters come from the adapter itself (``ranked_statement``), so "raw"
   cannot drift from what it sends. Snippets are made in Python from
   the page's rows, so they count as our time, not the engine's;
3. our overhead is facade p50 minus raw p50 (and their ratio);
4. index build time: a full ``rebuild`` of the search index;
5. with ``--rotate ROUNDS``: searches that hop between all accounts (shuffled,
   each search for another account than the last), which the main loop's
   repeated queries hide: what a search pays when its account's rows are not
   the ones just read.

    uv run python -m benchmarks.search                          # 10k and 100k, both backends
    uv run python -m benchmarks.search --sizes 10000 --backends sqlite --samples 100

Postgres: ``TRACE_TEST_POSTGRES_URL`` (default
``postgresql+asyncpg://postgres@127.0.0.1:5432/test``) names a server where a
throwaway database is created and dropped.

Loading 1M entries takes a quarter of an hour; ``--keep DIR`` keeps the loaded
database for the next run instead of dropping it. SQLite: the file (and blob
directory) under DIR; Postgres: a database named after the layout
(``trace_bench_keep_search_<size>_<others>x<other size>``). DIR also holds a
small JSON file per layout naming the measured account and stream; a run with
the same ``--keep DIR`` and layout finds it and skips the load (opening the
database still migrates it to the newest schema, so a kept database follows
schema changes). Delete the directory (and drop the Postgres database) to
start over::

    uv run python -m benchmarks.search --sizes 100000 --other-accounts 9 \
        --other-size 100000 --no-rebuild --keep /var/tmp/trace-search-1m
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import sqlalchemy as sa
from benchmarks.storage import DEFAULT_POSTGRES_URL, database, load, settings_for, summary_ms
from sqlalchemy.engine import make_url

from trace_core.model import EntryFilter
from trace_core.ports import SearchRequest
from trace_core.search import parse_query
from trace_http.bootstrap import open_trace
from trace_sql.engine import create_engine
from trace_sql.search import PostgresSearchIndex, SqliteSearchIndex

LIMIT = 20

# name → (query, uses the first stream as a filter)
QUERIES: dict[str, tuple[str, bool]] = {
    "one common word": ("meeting", False),
    "two words": ("database migration", False),
    "question": ("how did the postgres migration go?", False),
    "prefix while typing": ("deploy meilis", False),
    "relaxed (no full match)": ("postgres xylophone", False),
    "stream filter": ("budget", True),
}


def _request(text: str, stream_id: UUID | None, match: str = "all") -> SearchRequest:
    # What Trace.search_entries asks the index for: one row more than the page.
    filters = EntryFilter(stream=stream_id) if stream_id else EntryFilter()
    return SearchRequest(query=text, filters=filters, limit=LIMIT + 1, match=match)


def _raw_sqlite(
    index: SqliteSearchIndex,
    dialect: Any,
    path: str,
    account_id: UUID,
    stream_id: UUID | None,
    text: str,
) -> None:
    """The adapter's statements for one search, on a bare sqlite3 connection (kept open).

    The prefix count and the ranking statement are the ones the adapter builds
    (``prefix_statement``, ``ranked_statement``), so they query the account's
    own FTS5 table as the adapter does.
    """
    conn = _SQLITE_CONNECTIONS.get(path)
    if conn is None:
        conn = _SQLITE_CONNECTIONS[path] = sqlite3.connect(path)
    parsed = parse_query(text)
    if parsed.prefix_last:
        # The adapter's "is the last word already a common word in the account?" count.
        count = conn.execute(
            *index.prefix_statement(dialect, account_id, parsed.terms[-1])
        ).fetchone()[0]
        if count >= index.prefix_limit:
            parsed = msgspec.structs.replace(parsed, prefix_last=False)
    request = _request(text, stream_id)
    sql, params = index.ranked_statement(dialect, account_id, parsed, request)
    rows = conn.execute(sql, params).fetchall()
    if not rows and len(parsed.terms) > 1:
        request = _request(text, stream_id, "any")
        sql, params = index.ranked_statement(dialect, account_id, parsed, request)
        rows = conn.execute(sql, params).fetchall()


_SQLITE_CONNECTIONS: dict[str, sqlite3.Connection] = {}


async def _raw_postgres(
    index: PostgresSearchIndex,
    dialect: Any,
    conn: asyncpg.Connection,
    account_id: UUID,
    stream_id: UUID | None,
    text: str,
) -> None:
    """The adapter's statements for one search, on a bare asyncpg connection."""
    parsed = parse_query(text)
    request = _request(text, stream_id)
    sql, params = index.ranked_statement(dialect, account_id, parsed, request)
    rows = await conn.fetch(sql, *params)
    if not rows and len(parsed.terms) > 1:
        request = _request(text, stream_id, "any")
        sql, params = index.ranked_statement(dialect, account_id, parsed, request)
        await conn.fetch(sql, *params)


async def _rotate(trace: Any, rounds: int) -> dict[str, Any]:
    """Time searches that hop between every account, in a shuffled order.

    The main loop repeats one query for one account, so whatever the first
    search of an account pays (its part of the table read from far away) is
    paid once and hidden in the warm-up. Here each search is for another
    account than the one before: ``rounds`` times every (account, query) pair
    without a stream filter, shuffled with a fixed seed.
    """
    async with trace.storage.engine.connect() as conn:
        ids = (
            (await conn.execute(sa.text("SELECT account_id FROM accounts ORDER BY created_at")))
            .scalars()
            .all()
        )
    principals = []
    async with trace.storage.unit_of_work() as uow:
        for raw_id in ids:
            account = await uow.accounts.get(UUID(str(raw_id)))
            principals.append(trace.principal_for(account, actor="bench"))
    texts = [text for text, filtered in QUERIES.values() if not filtered]
    order = [(who, text) for who in principals for text in texts] * rounds
    random.Random(7).shuffle(order)
    times = []
    per_account: dict[UUID, list[float]] = {}
    for who, text in order:
        t0 = time.perf_counter()
        await trace.search_entries(who, text, limit=LIMIT)
        elapsed = time.perf_counter() - t0
        times.append(elapsed)
        per_account.setdefault(who.account_id, []).append(elapsed)
    # SQLite indexes an account in the FTS5 table of its id's last hex digit
    # (trace_sql.search.fts_table): how many accounts share each one's table.
    sharing = [account_id.hex[-1] for account_id in per_account]
    by_account = [
        {
            "account": account_id.hex,
            "table_accounts": sharing.count(account_id.hex[-1]),
            "p50_ms": summary_ms(account_times)["p50_ms"],
        }
        for account_id, account_times in per_account.items()
    ]
    return {"accounts": len(principals), "facade": summary_ms(times), "by_account": by_account}


@asynccontextmanager
async def kept_database(backend: str, keep: Path, label: str) -> AsyncIterator[str]:
    """Yield the URL of the database kept under ``label`` (created empty if missing)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{keep / f'{label}.db'}"
        return
    admin_url = make_url(os.environ.get("TRACE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    name = f"trace_bench_keep_{label}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            exists = (
                await conn.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                )
            ).first()
            if exists is None:
                await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    yield admin_url.set(database=name).render_as_string(hide_password=False)


async def bench(
    backend: str,
    size: int,
    *,
    samples: int,
    workdir: Path,
    others: int = 4,
    other_size: int | None = None,
    rebuild: bool = True,
    keep: Path | None = None,
    rotate: int = 0,
) -> dict[str, Any]:
    """Run the search benchmark for one backend and size.

    With ``keep``, the database is kept there (see the module docstring) and a
    database loaded by an earlier run with the same layout is reused.
    """
    per_other = other_size or max(1, size // 10)
    total_entries = size + others * per_other
    label = f"search{size}"
    opened = database(backend, workdir, label)
    meta_path: Path | None = None
    meta: dict[str, Any] | None = None
    if keep is not None:
        label = f"search_{size}_{others}x{per_other}"
        opened = kept_database(backend, keep, label)
        meta_path = keep / f"{backend}-{label}.json"
        if meta_path.exists():
            meta = json.loads(meta_path.read_text())
        workdir = keep
    async with opened as url:
        data_dir = workdir / f"data-{backend}-{label}"
        async with open_trace(settings_for(url, data_dir)) as trace:
            if meta is not None:
                async with trace.storage.unit_of_work() as uow:
                    account = await uow.accounts.get(UUID(meta["account_id"]))
                assert account is not None, f"{meta_path} names an account the database lacks"
                stream_id = UUID(meta["stream_id"])
                load_s = float(meta["load_s"])
                print(f"# reusing the database loaded in {load_s} s", file=sys.stderr)
            else:
                start = time.perf_counter()
                loaded = await load(trace, size, others=others, other_size=other_size)
                load_s = time.perf_counter() - start
                account = loaded["account"]
                stream_id = loaded["document"].streams[0].stream_id
                if meta_path is not None:
                    meta_path.write_text(
                        json.dumps(
                            {
                                "account_id": str(account.account_id),
                                "stream_id": str(stream_id),
                                "load_s": round(load_s, 1),
                                "total_entries": total_entries,
                            }
                        )
                    )
            who = trace.principal_for(account, actor="bench")
            assert trace.search is not None

            indexed, rebuild_s = 0, float("nan")
            if rebuild:
                start = time.perf_counter()
                indexed = await trace.search.rebuild(trace.storage)
                rebuild_s = time.perf_counter() - start

            pg: asyncpg.Connection | None = None
            if backend == "postgres":
                pg = await asyncpg.connect(
                    make_url(url).set(drivername="postgresql").render_as_string(False)
                )
                await pg.execute(PostgresSearchIndex.PLAN_SETTINGS)  # planned as the index's
            sqlite_path = make_url(url).database if backend == "sqlite" else None

            async def facade(text: str, filtered: bool) -> Any:
                filters = EntryFilter(stream=stream_id) if filtered else None
                return await trace.search_entries(who, text, filters=filters, limit=LIMIT)

            index = trace.search
            dialect = trace.storage.engine.dialect

            async def raw(text: str, filtered: bool) -> None:
                stream = stream_id if filtered else None
                if pg is not None:
                    assert isinstance(index, PostgresSearchIndex)
                    await _raw_postgres(index, dialect, pg, account.account_id, stream, text)
                else:
                    assert sqlite_path
                    assert isinstance(index, SqliteSearchIndex)
                    _raw_sqlite(index, dialect, sqlite_path, account.account_id, stream, text)

            per_query: dict[str, Any] = {}
            all_facade: list[float] = []
            all_raw: list[float] = []
            hits: dict[str, int] = {}
            for name, (text, filtered) in QUERIES.items():
                for _ in range(5):  # warm caches and connections
                    await facade(text, filtered)
                    await raw(text, filtered)
                facade_times: list[float] = []
                raw_times: list[float] = []
                # Interleaved, so both see the same cache and machine load.
                for _ in range(samples):
                    t0 = time.perf_counter()
                    result = await facade(text, filtered)
                    t1 = time.perf_counter()
                    await raw(text, filtered)
                    t2 = time.perf_counter()
                    facade_times.append(t1 - t0)
                    raw_times.append(t2 - t1)
                hits[name] = len(result.hits)
                per_query[name] = {
                    "query": text,
                    "facade": summary_ms(facade_times),
                    "raw": summary_ms(raw_times),
                    "hits": len(result.hits),
                    "relaxed": result.relaxed,
                }
                all_facade += facade_times
                all_raw += raw_times
            rotation = await _rotate(trace, rotate) if rotate else None
            if pg is not None:
                await pg.close()
            for conn in _SQLITE_CONNECTIONS.values():
                conn.close()
            _SQLITE_CONNECTIONS.clear()
    facade_all = summary_ms(all_facade)
    raw_all = summary_ms(all_raw)
    return {
        "backend": backend,
        "size": size,
        "total_entries": total_entries,
        "load_s": round(load_s, 1),
        "reused_database": meta is not None,
        "rebuild_s": round(rebuild_s, 2),
        "indexed_entries": indexed,
        "facade": facade_all,
        "raw": raw_all,
        "overhead_p50_ms": round(facade_all["p50_ms"] - raw_all["p50_ms"], 3),
        "ratio_p50": round(facade_all["p50_ms"] / raw_all["p50_ms"], 2),
        "queries": per_query,
        "rotation": rotation,
    }


def report(results: list[dict[str, Any]]) -> str:
    """Markdown tables of the results."""
    lines = [
        "| backend | entries in account (all accounts) | search_entries p50 / p95 (ms) "
        "| raw engine p50 / p95 (ms) | overhead p50 (ms) | ratio | index rebuild (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['size']:,} ({r['total_entries']:,}) "
            f"| {r['facade']['p50_ms']} / {r['facade']['p95_ms']} "
            f"| {r['raw']['p50_ms']} / {r['raw']['p95_ms']} | {r['overhead_p50_ms']} "
            f"| {r['ratio_p50']} | {r['rebuild_s']} ({r['indexed_entries']:,} entries) |"
        )
    rotated = [r for r in results if r.get("rotation")]
    if rotated:
        lines += [
            "",
            "| backend | entries (all accounts) | accounts | hopping searches p50 / p95 (ms) |",
            "|---|---|---|---|",
        ]
        for r in rotated:
            rot = r["rotation"]
            lines.append(
                f"| {r['backend']} | {r['size']:,} ({r['total_entries']:,}) | {rot['accounts']} "
                f"| {rot['facade']['p50_ms']} / {rot['facade']['p95_ms']} |"
            )
        for r in rotated:
            per = sorted(r["rotation"]["by_account"], key=lambda a: a["table_accounts"])
            lines.append("")
            lines.append(
                f"{r['backend']} {r['size']:,}, hopping p50 per account "
                "(accounts sharing its SQLite FTS5 table): "
                + ", ".join(f"{a['p50_ms']} ms ({a['table_accounts']})" for a in per)
            )
    lines += [
        "",
        "| backend | entries | query | hits | facade p50 / p95 (ms) | raw p50 / p95 (ms) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        for name, q in r["queries"].items():
            relaxed = ", relaxed" if q["relaxed"] else ""
            lines.append(
                f"| {r['backend']} | {r['size']:,} | {name}: `{q['query']}` | {q['hits']}{relaxed} "
                f"| {q['facade']['p50_ms']} / {q['facade']['p95_ms']} "
                f"| {q['raw']['p50_ms']} / {q['raw']['p95_ms']} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print JSON and Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--samples", type=int, default=60, help="samples per query kind")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument(
        "--other-accounts", type=int, default=4, help="tenants beside the measured one"
    )
    parser.add_argument(
        "--other-size", type=int, help="entries per other tenant [default: a tenth of SIZE]"
    )
    parser.add_argument(
        "--no-rebuild", action="store_true", help="skip timing a full index rebuild"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the loaded databases under DIR and reuse them on the next run",
    )
    parser.add_argument(
        "--rotate",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="also time searches hopping between all accounts, ROUNDS per account and query",
    )
    args = parser.parse_args(argv)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="trace-search-bench-") as tmp:
        for size in [int(s) for s in args.sizes.split(",")]:
            for backend in args.backends.split(","):
                print(f"# {backend} {size:,} ...", file=sys.stderr, flush=True)
                result = asyncio.run(
                    bench(
                        backend,
                        size,
                        samples=args.samples,
                        workdir=Path(tmp),
                        others=args.other_accounts,
                        other_size=args.other_size,
                        rebuild=not args.no_rebuild,
                        keep=args.keep,
                        rotate=args.rotate,
                    )
                )
                print(json.dumps(result), file=sys.stderr, flush=True)
                results.append(result)
    print(
        f"Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
