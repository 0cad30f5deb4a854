import asyncio, tempfile, json
from pathlib import Path
from benchmarks import tokens as T


async def main():
    with tempfile.TemporaryDirectory() as tmp:
        b = await T.build(Path(tmp) / "d", 200)
        async with T.session(b["settings"], b["full"]) as c:
            rec = T.Recorder(c, "full")
            ctx = await T.seed(rec)
            r = await c.call_tool("list_entries", {"stream_id": ctx["short_stream"], "limit": 20})
            print(r.content[0].text[:1500])
            print(json.dumps(r.structured_content)[:1200])
            r = await c.call_tool("search_entries", {"query": "lighthouse keeper"})
            print(r.content[0].text[:2000])
            print(json.dumps(r.structured_content)[:1200])


asyncio.run(main())
