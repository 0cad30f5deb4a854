"""What the MCP answers cost a model's context: characters and estimated tokens per call.

1. A SQLite account is built through the composition root and loaded from the
   deterministic corpus (``--entries``, default 200, with its streams and their
   settings); then, through the tools, the cases the targets name: ten ~2,000-
   character entries sharing a word (``lighthouse``), a stream of twenty short
   entries, and two images.
2. The official SDK client talks in-process to the MCP server (the same
   ``TraceMcp`` ``trace serve`` runs), once for a Full Access key and once for a
   read-only key, and every tool is called with typical arguments.
3. For each answer: characters of the text blocks and of the structured content
   (compact JSON, as on the wire) and estimated tokens (characters / 4); for
   ``tools/list``, the whole listing with and without the output schemas.

Targets (issue 12, full-access key, estimated tokens, met by the text part and by
the structured part each, since a client shows the model one of them; ``total``
= both is printed too): ``tools/list`` ≤ 5,000 with output schemas; ``create_entry``,
``update_entry``, ``delete_entry`` ≤ 150 whatever the entry's size; 10-hit
``search_entries`` on ~2k-character entries ≤ 2,000 with default arguments;
``list_entries`` of 20 short entries ≤ 1,500; structured ≤ 1.5 x text on every
answer. Each row says whether it meets its target.

    uv run python -m benchmarks.tokens
    uv run python -m benchmarks.tokens --json      # the rows as JSON too
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import struct
import sys
import tempfile
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from benchmarks.corpus import account_document, markdown

SEED = 20260124
TOKEN_CHARS = 4
PUBLIC_URL = "https://trace.example.com"

# call name → (target in estimated tokens for text + structured, or None)
TARGETS: dict[str, int] = {
    "tools/list": 5_000,
    "create_entry (62k chars)": 150,
    "create_entry (short)": 150,
    "update_entry (62k chars)": 150,
    "update_entry (tags)": 150,
    "delete_entry": 150,
    "search_entries (10 hits, 2k entries)": 2_000,
    "list_entries (20 short)": 1_500,
}
STRUCTURED_RATIO = 1.5


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * (3 * width) for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def tokens(chars: int) -> int:
    """Estimated tokens of ``chars`` characters (the usual chars / 4)."""
    return round(chars / TOKEN_CHARS)


class Recorder:
    """Calls tools and records the size of each answer."""

    def __init__(self, client: Any, key: str) -> None:
        self.client = client
        self.key = key
        self.rows: list[dict[str, Any]] = []

    async def call(self, label: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await self.client.call_tool(name, arguments)
        text = sum(len(getattr(block, "text", "")) for block in result.content)
        structured = result.structured_content
        data = len(_compact(structured)) if structured is not None else 0
        if result.is_error:
            raise RuntimeError(f"{label}: {structured or result.content}")
        self.record(label, text, data)
        return structured or {}

    def record(self, label: str, text: int, structured: int) -> None:
        total = text + structured
        target = TARGETS.get(label) if self.key == "full" else None
        ratio = structured / text if text else 0.0
        checks = []
        if target is not None:
            # A client puts one of the two parts in the model's context (Claude's
            # clients the text, some others the structured content): each must fit.
            checks.append(tokens(max(text, structured)) <= target)
        if text and label != "tools/list" and not label.startswith("tools/list"):
            checks.append(ratio <= STRUCTURED_RATIO)
        self.rows.append(
            {
                "key": self.key,
                "call": label,
                "text_chars": text,
                "structured_chars": structured,
                "text_tokens": tokens(text),
                "structured_tokens": tokens(structured),
                "total_tokens": tokens(total),
                "ratio": round(ratio, 2),
                "target": target,
                "ok": all(checks) if checks else None,
            }
        )


async def build(data_dir: Path, entries: int) -> dict[str, Any]:
    """Create the account (corpus) on SQLite; return what the sessions need."""
    from trace_core.model import Principal, Scope
    from trace_core.transfer import import_account
    from trace_http.bootstrap import open_runtime
    from trace_http.settings import Settings, StorageSettings

    settings = Settings(storage=StorageSettings(data_dir=str(data_dir)))
    async with open_runtime(settings) as runtime:
        trace = runtime.trace
        document = account_document(seed=SEED, account_index=0, entries=entries)
        account = await trace.create_account(document.account.email)
        await import_account(trace.storage, trace.blobs, account.account_id, document)
    return {
        "settings": settings,
        "full": Principal(
            account_id=account.account_id,
            scopes=frozenset({Scope.FULL}),
            actor="bench-full",
            via="api_key",
            credential_id="bench-full",
        ),
        "read": Principal(
            account_id=account.account_id,
            scopes=frozenset({Scope.READ}),
            actor="bench-read",
            via="api_key",
            credential_id="bench-read",
        ),
    }


@asynccontextmanager
async def session(settings: Any, principal: Any) -> AsyncIterator[Any]:
    """The official SDK client, in-process, against the server acting for ``principal``."""
    from mcp import Client
    from trace_http.bootstrap import open_runtime
    from trace_mcp import AttachmentUrlSigner, McpOptions, TraceMcp

    async with open_runtime(settings) as runtime:
        server = TraceMcp(
            runtime.trace,
            options=McpOptions(public_url=PUBLIC_URL),
            signer=AttachmentUrlSigner(b"s" * 48, PUBLIC_URL),
            principal=principal,
        )
        async with Client(server.server) as client:
            yield client


async def tools_list(rec: Recorder) -> None:
    listed = await rec.client.list_tools()
    tools = [t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in listed.tools]
    rec.record("tools/list", len(_compact({"tools": tools})), 0)
    bare = [{k: v for k, v in t.items() if k != "outputSchema"} for t in tools]
    rec.record("tools/list (no output schemas)", len(_compact({"tools": bare})), 0)
    rec.rows[-1]["tools"] = rec.rows[-2]["tools"] = len(tools)


async def seed(rec: Recorder) -> dict[str, Any]:
    """Add the target cases through the tools (not measured)."""
    rng = random.Random(SEED)
    streams = (await rec.client.call_tool("list_streams", {})).structured_content["streams"]
    short = await rec.client.call_tool(
        "create_stream", {"name": "Quick notes", "description": "one-liners"}
    )
    short_id = short.structured_content["stream"]["stream_id"]
    for i in range(20):
        await rec.client.call_tool(
            "create_entry",
            {
                "stream_id": short_id,
                "title": f"Note {i}",
                "content": " ".join(markdown(rng, 200).split())[:120],
                "tags": ["quick"],
            },
        )
    long_ids = []
    for i in range(10):
        text = markdown(rng, 1_000) + "\n\nThe lighthouse keeper " + markdown(rng, 950)
        made = await rec.client.call_tool(
            "create_entry",
            {
                "stream_id": streams[i % len(streams)]["stream_id"],
                "title": f"Lighthouse notes {i}",
                "content": text,
                "tags": ["travel", "coast"],
            },
        )
        long_ids.append(_entry_id(made.structured_content))
    image = base64.b64encode(_png(40, 30)).decode()
    att = await rec.client.call_tool(
        "add_attachment", {"entry_id": long_ids[0], "data": image, "filename": "a.png"}
    )
    return {
        "streams": streams,
        "short_stream": short_id,
        "long_ids": long_ids,
        "attachment_id": att.structured_content["attachment_id"],
        "image": image,
    }


async def read_calls(rec: Recorder, ctx: dict[str, Any]) -> None:
    stream_id = ctx["streams"][0]["stream_id"]
    await rec.call("get_docs", "get_docs", {})
    await rec.call("list_streams", "list_streams", {})
    await rec.call("get_stream", "get_stream", {"stream_id": stream_id})
    await rec.call("list_entries (defaults, 50)", "list_entries", {})
    await rec.call(
        "list_entries (20 short)", "list_entries", {"stream_id": ctx["short_stream"], "limit": 20}
    )
    await rec.call(
        "list_entries (20, no content)", "list_entries", {"limit": 20, "include_content": False}
    )
    await rec.call("get_entry (2k)", "get_entry", {"entry_id": ctx["long_ids"][0]})
    await rec.call(
        "search_entries (10 hits, 2k entries)", "search_entries", {"query": "lighthouse keeper"}
    )
    await rec.call(
        "search_entries (10 hits, include_content)",
        "search_entries",
        {"query": "lighthouse keeper", "include_content": True},
    )
    await rec.call("search_entries (corpus words)", "search_entries", {"query": "project review"})
    await rec.call("list_tags", "list_tags", {})
    await rec.call("list_trash", "list_trash", {})
    await rec.call("get_entry_history", "get_entry_history", {"entry_id": ctx["long_ids"][0]})
    await rec.call("search (connectors)", "search", {"query": "lighthouse"})
    await rec.call("fetch (connectors)", "fetch", {"id": ctx["long_ids"][1]})
    await rec.call(
        "get_attachment_url", "get_attachment_url", {"attachment_id": ctx["attachment_id"]}
    )
    await rec.call(
        "get_attachment_data", "get_attachment_data", {"attachment_id": ctx["attachment_id"]}
    )


async def write_calls(rec: Recorder, ctx: dict[str, Any]) -> None:
    rng = random.Random(SEED + 1)
    big = markdown(rng, 62_000)
    stream_id = ctx["streams"][0]["stream_id"]
    made = await rec.call(
        "create_entry (62k chars)",
        "create_entry",
        {"stream_id": stream_id, "title": "A long draft", "content": big, "tags": ["draft"]},
    )
    entry_id = _entry_id(made)
    await rec.call(
        "create_entry (short)",
        "create_entry",
        {"content": "Buy basil and tomatoes", "tags": ["cooking"]},
    )
    await rec.call(
        "update_entry (62k chars)",
        "update_entry",
        {"entry_id": entry_id, "content": big + "\n\nOne more paragraph."},
    )
    await rec.call(
        "update_entry (tags)", "update_entry", {"entry_id": entry_id, "tags": ["draft", "work"]}
    )
    await rec.call("delete_entry", "delete_entry", {"entry_id": entry_id})
    await rec.call("restore_entry", "restore_entry", {"entry_id": entry_id})
    made_stream = await rec.call(
        "create_stream", "create_stream", {"name": "Reading", "description": "Books"}
    )
    await rec.call(
        "update_stream",
        "update_stream",
        {"stream_id": made_stream["stream"]["stream_id"], "description": "Books and papers"},
    )
    added = await rec.call(
        "add_attachment",
        "add_attachment",
        {"entry_id": entry_id, "data": ctx["image"], "filename": "b.png"},
    )
    await rec.call(
        "delete_attachment", "delete_attachment", {"attachment_id": added["attachment_id"]}
    )


def _entry_id(answer: dict[str, Any]) -> str:
    entry = answer.get("entry")
    if isinstance(entry, dict):
        return str(entry["entry_id"])
    return str(answer["entry_id"])


async def run(entries: int, workdir: Path) -> list[dict[str, Any]]:
    built = await build(workdir / "data", entries)
    rows: list[dict[str, Any]] = []
    async with session(built["settings"], built["full"]) as client:
        rec = Recorder(client, "full")
        ctx = await seed(rec)
        await tools_list(rec)
        await read_calls(rec, ctx)
        await write_calls(rec, ctx)
        rows += rec.rows
    async with session(built["settings"], built["read"]) as client:
        rec = Recorder(client, "read")
        await tools_list(rec)
        await read_calls(rec, ctx)
        rows += rec.rows
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'key':<5} {'call':<42} {'text ch':>8} {'struct ch':>9} {'text tk':>8} "
        f"{'struct tk':>9} {'total tk':>8} {'s/t':>5} {'target':>7}  ok"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        ok = "" if r["ok"] is None else ("yes" if r["ok"] else "NO")
        lines.append(
            f"{r['key']:<5} {r['call']:<42} {r['text_chars']:>8} {r['structured_chars']:>9} "
            f"{r['text_tokens']:>8} {r['structured_tokens']:>9} {r['total_tokens']:>8} "
            f"{r['ratio']:>5} {r['target'] or '':>7}  {ok}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=200, help="corpus entries (default 200)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        rows = asyncio.run(run(args.entries, Path(tmp)))
    print(table(rows))
    missed = [r for r in rows if r["ok"] is False]
    print(
        f"\n{sum(1 for r in rows if r['ok'])} checks met, {len(missed)} missed"
        + (": " + ", ".join(f"{r['key']} {r['call']}" for r in missed) if missed else "")
    )
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        print()


if __name__ == "__main__":
    main()
