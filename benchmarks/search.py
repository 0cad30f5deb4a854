"""Search benchmark: ``search_entries`` through the ``Trace`` facade vs the raw engine query.

For each backend (SQLite FTS5, Postgres tsvector) and size (entries in the
measured account):

1. a fresh database is built by the composition root (``open_trace``: migrate,
   built-in SQL search index) and loaded from the deterministic corpus with the
   bulk import (its rate in entries/s is reported: it must stay >= 2,000 on
   SQLite); the measured account holds SIZE entries and four other accounts
   SIZE/10 each (their rows are indexed too and must be skipped). 5 % of the
   entries end with a Chinese, Japanese or Korean sentence or a compound
   (``Wi-Fi``, ``COVID-19``, ``e-mail``): ``corpus.SEARCH_SENTENCES``;
2. the database's size and its search structures' (FTS5 tables, tsvector
   column and GIN index, ``search_words``) are reported;
3. a mix of queries runs through ``Trace.search_entries`` (limit 20), the
   whole pipeline: every word, typo corrections from the account's words when
   page one comes up short, the any-word fill, the total. The categories are
   reported separately: plain (one common word, two words, a question, a
   half-typed prefix, a query relaxed to any word, a stream filter), typo, CJK,
   phrase, exclusion/OR, compound, a stream's name among the words;
4. the index stands behind a recorder (``search_raw.Recorder``): the time
   spent inside the index is reported, and every read statement one search
   sends to the database (caught at the driver: the ranking statements,
   counts, vocabulary look-ups, whether through SQLAlchemy or an adapter's
   hand-written fast path) is sent again, interleaved in the same run, on a
   bare driver connection (``sqlite3`` on the same file, ``asyncpg`` on the
   same database): the raw engine time of the same search, which cannot drift
   from what the adapters send. Snippets are made in Python from the page's
   rows, so they count as our time, not the engine's;
5. our overhead is facade p50 minus raw p50 (and their ratio);
6. index build time: a full ``rebuild`` of the search index;
7. with ``--rotate ROUNDS``: searches that hop between all accounts (shuffled,
   each search for another account than the last), which the main loop's
   repeated queries hide: what a search pays when its account's rows are not
   the ones just read.

    uv run python -m benchmarks.search                          # 10k, both backends (~2 min)
    uv run python -m benchmarks.search --sizes 10000,100000 --backends sqlite --samples 100

Postgres: ``TRACE_TEST_POSTGRES_URL`` (default
``postgresql+asyncpg://postgres@127.0.0.1:5432/test``) names a server where a
throwaway database is created and dropped.

Loading 1M entries takes a quarter of an hour; ``--keep DIR`` keeps the loaded
database for the next run instead of dropping it. SQLite: the file (and blob
directory) under DIR; Postgres: a database named after the layout
(``trace_bench_keep_search_<size>_<others>x<other size>_s5``). DIR also holds a
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
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import sqlalchemy as sa
from benchmarks.corpus import account_document
from benchmarks.search_raw import (
    SQLITE_CONNECTIONS,
    Recorder,
    index_size,
    raw_postgres,
    raw_sqlite,
)
from benchmarks.storage import DEFAULT_POSTGRES_URL, SEED, database, settings_for, summary_ms
from sqlalchemy.engine import make_url

from trace_core.model import EntryFilter
from trace_core.transfer import import_account
from trace_http.bootstrap import open_trace
from trace_sql.engine import create_engine
from trace_sql.search import PostgresSearchIndex

LIMIT = 20
SEARCH_SHARE = 0.05
"""Share of the corpus's entries ending with a CJK or compound sentence."""

# name -> (category, query, uses the first stream as a filter). ``{stream}`` is
# replaced by the name of one of the measured account's streams.
QUERIES: dict[str, tuple[str, str, bool]] = {
    "one common word": ("plain", "meeting", False),
    "two words": ("plain", "database migration", False),
    "question": ("plain", "how did the postgres migration go?", False),
    "prefix while typing": ("plain", "deploy meilis", False),
    "relaxed (no full match)": ("plain", "postgres xylophone", False),
    "stream filter": ("plain", "budget", True),
    "typo, one edit": ("typo", "meetnig", False),
    "typo in one of two words": ("typo", "databse migration", False),
    "typo, two edits in a long word": ("typo", "prefomance", False),
    "CJK, 2 chars in a sentence": ("cjk", "会議", False),
    "CJK, 4 chars": ("cjk", "検索機能", False),
    "CJK, 1 char": ("cjk", "桜", False),
    "Korean word": ("cjk", "비빔밥", False),
    "phrase": ("phrase", '"search index"', False),
    "exclusion": ("exclusion", "meeting -budget", False),
    "OR": ("exclusion", "yoga OR swim", False),
    "compound joined": ("compound", "wifi", False),
    "compound hyphenated": ("compound", "e-mail", False),
    "compound with digits": ("compound", "covid19", False),
    "stream name and a word": ("stream name", "{stream} coffee", False),
}


def _stream_word(document: Any) -> tuple[UUID, str]:
    """Return the first stream's id and a one-word stream name of the account, lower-cased."""
    names = [s.name for s in document.streams if " " not in s.name] or [document.streams[0].name]
    return document.streams[0].stream_id, names[0].lower()


async def load_corpus(
    trace: Any, size: int, *, others: int, other_size: int | None
) -> dict[str, Any]:
    """Load the corpus (with :data:`SEARCH_SHARE` CJK/compound sentences) by the bulk import.

    The measured account holds ``size`` entries, ``others`` accounts
    ``other_size`` each. Returns the measured account, its document and its
    import rate (entries per wall-clock second, and per CPU second of this
    process: SQLite works in our threads).
    """
    result: dict[str, Any] = {}
    for index in range(others + 1):
        n = size if index == 0 else (other_size or max(1, size // 10))
        document = account_document(
            seed=SEED, account_index=index, entries=n, search_share=SEARCH_SHARE
        )
        account = await trace.create_account(document.account.email, name=document.account.name)
        start, cpu = time.perf_counter(), time.process_time()
        await import_account(trace.storage, trace.blobs, account.account_id, document)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        if index == 0:
            result = {
                "account": account,
                "document": document,
                "import_entries_per_s": round(n / elapsed),
                "import_entries_per_cpu_s": round(n / cpu),
            }
    return result


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
    texts = [
        text for category, text, filtered in QUERIES.values() if not filtered and "{" not in text
    ]
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
        # "s5": the corpus with SEARCH_SHARE sentences (older kept layouts lack them).
        label = f"search_{size}_{others}x{per_other}_s5"
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
                stream_id, stream_word = UUID(meta["stream_id"]), meta["stream_word"]
                load_s, import_rate = float(meta["load_s"]), meta["import"]
                print(f"# reusing the database loaded in {load_s} s", file=sys.stderr)
            else:
                start = time.perf_counter()
                loaded = await load_corpus(trace, size, others=others, other_size=other_size)
                load_s = time.perf_counter() - start
                account = loaded["account"]
                stream_id, stream_word = _stream_word(loaded["document"])
                import_rate = {
                    k: loaded[k] for k in ("import_entries_per_s", "import_entries_per_cpu_s")
                }
                if meta_path is not None:
                    meta_path.write_text(
                        json.dumps(
                            {
                                "account_id": str(account.account_id),
                                "stream_id": str(stream_id),
                                "stream_word": stream_word,
                                "load_s": round(load_s, 1),
                                "import": import_rate,
                                "total_entries": total_entries,
                            }
                        )
                    )
            who = trace.principal_for(account, actor="bench")
            assert trace.search is not None
            sizes = await index_size(trace, backend)

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
            index = trace.search
            recorder = Recorder(index, trace.storage)
            trace.search = recorder

            async def facade(text: str, filtered: bool) -> Any:
                filters = EntryFilter(stream=stream_id) if filtered else None
                recorder.reset()
                return await trace.search_entries(who, text, filters=filters, limit=LIMIT)

            async def raw(statements: list[tuple[str, Any]]) -> None:
                if pg is not None:
                    await raw_postgres(pg, statements)
                else:
                    assert sqlite_path
                    raw_sqlite(sqlite_path, statements)

            per_query: dict[str, Any] = {}
            by_category: dict[str, dict[str, list[float]]] = {}
            for name, (category, template, filtered) in QUERIES.items():
                text = template.format(stream=stream_word)
                for _ in range(5):  # warm caches and connections
                    result = await facade(text, filtered)
                # What this search sends to the database, replayed raw.
                await recorder.capture(facade(text, filtered))
                statements, calls = list(recorder.sent), list(recorder.calls)
                for _ in range(5):
                    await raw(statements)
                times: dict[str, list[float]] = {"facade": [], "index": [], "raw": []}
                # Interleaved, so both see the same cache and machine load.
                for _ in range(samples):
                    t0 = time.perf_counter()
                    result = await facade(text, filtered)
                    t1 = time.perf_counter()
                    await raw(statements)
                    t2 = time.perf_counter()
                    times["facade"].append(t1 - t0)
                    times["index"].append(recorder.spent)
                    times["raw"].append(t2 - t1)
                per_query[name] = {
                    "category": category,
                    "query": text,
                    "hits": len(result.hits),
                    "relaxed": result.relaxed,
                    "corrected": [list(pair) for pair in result.corrected],
                    "index_calls": calls,
                    "statements": len(statements),
                    **{kind: summary_ms(values) for kind, values in times.items()},
                }
                into = by_category.setdefault(category, {"facade": [], "index": [], "raw": []})
                for kind, values in times.items():
                    into[kind] += values
            trace.search = index
            rotation = await _rotate(trace, rotate) if rotate else None
            if pg is not None:
                await pg.close()
            for conn in SQLITE_CONNECTIONS.values():
                conn.close()
            SQLITE_CONNECTIONS.clear()
    categories = {
        category: {kind: summary_ms(values) for kind, values in times.items()}
        for category, times in by_category.items()
    }
    every = {
        kind: summary_ms([v for times in by_category.values() for v in times[kind]])
        for kind in ("facade", "index", "raw")
    }
    return {
        "backend": backend,
        "size": size,
        "total_entries": total_entries,
        "load_s": round(load_s, 1),
        **import_rate,
        **sizes,
        "reused_database": meta is not None,
        "rebuild_s": round(rebuild_s, 2),
        "indexed_entries": indexed,
        **every,
        "overhead_p50_ms": round(every["facade"]["p50_ms"] - every["raw"]["p50_ms"], 3),
        "ratio_p50": round(every["facade"]["p50_ms"] / every["raw"]["p50_ms"], 2),
        "categories": categories,
        "queries": per_query,
        "rotation": rotation,
    }


def report(results: list[dict[str, Any]]) -> str:
    """Markdown tables of the results."""
    lines = [
        "| backend | entries in account (all accounts) | search_entries p50 / p95 (ms) "
        "| in the index p50 (ms) | raw engine p50 / p95 (ms) | overhead p50 (ms) | ratio "
        "| import (entries/s; per CPU s) | database / search index (MB) | index rebuild (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['size']:,} ({r['total_entries']:,}) "
            f"| {r['facade']['p50_ms']} / {r['facade']['p95_ms']} | {r['index']['p50_ms']} "
            f"| {r['raw']['p50_ms']} / {r['raw']['p95_ms']} | {r['overhead_p50_ms']} "
            f"| {r['ratio_p50']} "
            f"| {r['import_entries_per_s']:,}; {r['import_entries_per_cpu_s']:,} "
            f"| {r['database_mb']} / {r['search_mb']} (words {r['search_words_mb']}) "
            f"| {r['rebuild_s']} ({r['indexed_entries']:,} entries) |"
        )
    lines += [
        "",
        "| backend | entries | category | facade p50 / p95 (ms) | in the index p50 (ms) "
        "| raw p50 / p95 (ms) | overhead p50 (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for category, c in r["categories"].items():
            lines.append(
                f"| {r['backend']} | {r['size']:,} | {category} "
                f"| {c['facade']['p50_ms']} / {c['facade']['p95_ms']} | {c['index']['p50_ms']} "
                f"| {c['raw']['p50_ms']} / {c['raw']['p95_ms']} "
                f"| {round(c['facade']['p50_ms'] - c['raw']['p50_ms'], 3)} |"
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
        "| backend | entries | query | hits | index calls (statements) "
        "| facade p50 / p95 (ms) | raw p50 / p95 (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for name, q in r["queries"].items():
            found = f"{q['hits']}" + (", relaxed" if q["relaxed"] else "")
            if q["corrected"]:
                found += ", " + ", ".join(f"{a}→{b}" for a, b in q["corrected"])
            calls = ", ".join(q["index_calls"]) + f" ({q['statements']})"
            lines.append(
                f"| {r['backend']} | {r['size']:,} | {name}: `{q['query']}` | {found} | {calls} "
                f"| {q['facade']['p50_ms']} / {q['facade']['p95_ms']} "
                f"| {q['raw']['p50_ms']} / {q['raw']['p95_ms']} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print JSON and Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000", help="e.g. 10000,100000")
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
