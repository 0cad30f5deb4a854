"""``add_attachment`` and ``delete_attachment`` through the SDK client; image counts in answers."""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

import pytest
from mcp_tool_support import Connect, read_only

from mcp import Client
from trace_core.limits import MAX_ATTACHMENT_BASE64_CHARS, MAX_ATTACHMENT_BYTES, Limits
from trace_core.model import Principal
from trace_core.service import Trace
from trace_core.testing.images import declaring, image_bytes, png_bytes
from trace_core.testing.memory import FixedClock, InMemoryBlobStore, InMemoryStorage
from trace_mcp import WRITE_TOOLS, TraceMcp

pytestmark = pytest.mark.anyio

FORMATS = ["image/png", "image/jpeg", "image/webp", "image/gif"]


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def call_error(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return result.structured_content["error"]  # type: ignore[index]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def new_entry(client: Client, content: str = "photo") -> str:
    return str((await call(client, "create_entry", content=content))["entry_id"])


@pytest.mark.parametrize("mime_type", FORMATS)
async def test_add_attachment_stores_each_format_and_answers_in_one_line(
    client: Client, mime_type: str
) -> None:
    entry_id = await new_entry(client)
    data = image_bytes(mime_type, 7, 5)

    result = await client.call_tool(
        "add_attachment", {"entry_id": entry_id, "data": b64(data), "filename": "pic"}
    )

    assert not result.is_error, result.content
    answer = result.structured_content
    assert answer is not None
    assert answer["mime_type"] == mime_type
    assert (answer["width"], answer["height"], answer["file_size"]) == (7, 5, len(data))
    assert answer["entry_version"] == 2
    assert set(answer) == {
        "attachment_id",
        "entry_id",
        "mime_type",
        "file_size",
        "width",
        "height",
        "position",
        "entry_version",
    }
    (text,) = result.content
    assert text.type == "text"
    assert "\n" not in text.text  # type: ignore[union-attr]
    assert answer["attachment_id"] in text.text  # type: ignore[union-attr]
    assert "7x5 px" in text.text  # type: ignore[union-attr]
    picture = await client.call_tool(
        "get_attachment_data", {"attachment_id": answer["attachment_id"]}
    )
    assert base64.b64decode(picture.content[0].data) == data  # type: ignore[union-attr]


async def test_get_entry_lists_the_image_and_its_history_names_it(client: Client) -> None:
    entry_id = await new_entry(client)
    added = await call(
        client, "add_attachment", entry_id=entry_id, data=b64(png_bytes(3, 3)), filename="a.png"
    )

    detail = await call(client, "get_entry", entry_id=entry_id)
    history = await call(client, "get_entry_history", entry_id=entry_id)

    assert detail["entry"]["image_count"] == 1
    assert detail["entry"]["version"] == 2
    assert [a["attachment_id"] for a in detail["attachments"]] == [added["attachment_id"]]
    assert history["versions"][0]["action"] == "attachment_added"
    assert history["versions"][0]["attachment"] == {
        "attachment_id": added["attachment_id"],
        "mime_type": "image/png",
        "filename": "a.png",
    }
    assert "attachment" not in history["versions"][1]


async def test_a_data_url_and_wrapped_or_url_safe_base64_are_forgiven(client: Client) -> None:
    entry_id = await new_entry(client)
    data = png_bytes(5, 5, seed=9) + bytes(range(256))  # a tail with every byte value
    plain = b64(data)
    wrapped = "\n".join(plain[i : i + 76] for i in range(0, len(plain), 76))
    url_safe = base64.urlsafe_b64encode(data).decode().rstrip("=")
    for sent in (f"data:image/png;base64,{plain}", wrapped, url_safe):
        added = await call(client, "add_attachment", entry_id=entry_id, data=sent, filename="x")
        assert added["file_size"] == len(data)


async def test_a_content_type_that_disagrees_with_the_bytes_is_ignored_and_said(
    client: Client,
) -> None:
    entry_id = await new_entry(client)
    data = b64(image_bytes("image/jpeg"))

    agreeing = await call(
        client,
        "add_attachment",
        entry_id=entry_id,
        data=data,
        filename="a",
        content_type="image/jpg",
    )
    result = await client.call_tool(
        "add_attachment",
        {"entry_id": entry_id, "data": data, "filename": "a", "content_type": "image/png"},
    )

    assert "note" not in agreeing
    assert result.structured_content is not None
    assert result.structured_content["mime_type"] == "image/jpeg"
    assert "image/png" in result.structured_content["note"]
    assert "was ignored" in result.content[0].text  # type: ignore[union-attr]


async def _refusal(
    client: Client, trace: Trace, alice: Principal, data: str, filename: str = "x"
) -> dict[str, Any]:
    """Call add_attachment with ``data``, expect invalid_input, and check nothing was stored."""
    entry_id = await new_entry(client)
    error = await call_error(
        client, "add_attachment", entry_id=entry_id, data=data, filename=filename
    )
    assert error["code"] == "invalid_input"
    detail = await trace.get_entry(alice, UUID(entry_id))
    assert detail.attachments == []
    assert detail.entry.version == 1
    assert isinstance(trace.blobs, InMemoryBlobStore)
    assert trace.blobs.keys() == []
    return error


async def test_a_file_that_is_not_an_image_is_refused_naming_data(
    client: Client, trace: Trace, alice: Principal
) -> None:
    error = await _refusal(client, trace, alice, b64(b"%PDF-1.7\n1 0 obj"))
    assert error["field"] == "data"
    assert "PDF is not accepted" in error["message"]
    assert error["allowed"] == ["image/jpeg", "image/png", "image/webp", "image/gif"]


async def test_an_svg_is_refused(client: Client, trace: Trace, alice: Principal) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    error = await _refusal(client, trace, alice, b64(svg), filename="x.svg")
    assert error["field"] == "data"
    assert "SVG" in error["message"]


@pytest.mark.parametrize("mime_type", FORMATS)
async def test_a_decompression_bomb_is_refused_naming_data(
    client: Client, trace: Trace, alice: Principal, mime_type: str
) -> None:
    bomb = declaring(image_bytes(mime_type), 16_000, 16_000)
    error = await _refusal(client, trace, alice, b64(bomb))
    assert error["field"] == "data"
    assert "16,000x16,000 pixels" in error["message"]
    assert "at most" in error["message"]


@pytest.mark.parametrize(
    "data", ["not base64!", "QUJD=RA==", "Zm9v\x00YmFy", "ZmÖv", "A"], ids=repr
)
async def test_text_that_is_not_base64_is_refused_naming_data(
    client: Client, trace: Trace, alice: Principal, data: str
) -> None:
    error = await _refusal(client, trace, alice, data)
    assert error["field"] == "data"
    assert "not base64" in error["message"]


async def test_base64_longer_than_the_largest_file_is_refused_before_decoding(
    client: Client, trace: Trace, alice: Principal
) -> None:
    too_long = b64(png_bytes() + bytes(MAX_ATTACHMENT_BYTES))
    assert len(too_long) > MAX_ATTACHMENT_BASE64_CHARS
    error = await _refusal(client, trace, alice, too_long)
    assert error["field"] == "data"
    assert f"at most {MAX_ATTACHMENT_BASE64_CHARS:,}" in error["message"]


async def test_a_file_over_the_servers_limit_is_refused_naming_data(clock: FixedClock) -> None:
    trace = Trace(
        storage=InMemoryStorage(),
        blobs=InMemoryBlobStore(),
        clock=clock,
        limits=Limits(max_attachment_bytes=2_000),
    )
    account = await trace.create_account("small@example.com")
    alice = trace.principal_for(account, actor="alice-key", via="api_key")
    async with Client(TraceMcp(trace, principal=alice).server) as client:
        ok = await call(
            client,
            "add_attachment",
            entry_id=await new_entry(client),
            data=b64(png_bytes()),
            filename="small.png",
        )
        assert ok["file_size"] < 2_000
        error = await call_error(
            client,
            "add_attachment",
            entry_id=await new_entry(client),
            data=b64(png_bytes() + bytes(2_000)),
            filename="big.png",
        )
    assert error["field"] == "data"
    assert "at most 2,000 bytes" in error["message"]
    assert len(trace.blobs.keys()) == 1  # type: ignore[attr-defined]


async def test_delete_attachment_removes_the_image_in_one_line_and_records_it(
    client: Client,
) -> None:
    entry_id = await new_entry(client)
    kept = await call(
        client, "add_attachment", entry_id=entry_id, data=b64(png_bytes()), filename="kept.png"
    )
    gone = await call(
        client, "add_attachment", entry_id=entry_id, data=b64(png_bytes()), filename="gone.png"
    )

    result = await client.call_tool("delete_attachment", {"attachment_id": gone["attachment_id"]})

    assert not result.is_error
    assert result.structured_content == {
        "attachment_id": gone["attachment_id"],
        "entry_id": entry_id,
        "removed": True,
        "entry_version": 4,
    }
    text = result.content[0].text  # type: ignore[union-attr]
    assert "\n" not in text
    assert "gone.png" in text
    detail = await call(client, "get_entry", entry_id=entry_id)
    assert [a["attachment_id"] for a in detail["attachments"]] == [kept["attachment_id"]]
    assert detail["entry"]["image_count"] == 1
    history = await call(client, "get_entry_history", entry_id=entry_id)
    assert history["versions"][0]["action"] == "attachment_removed"
    assert history["versions"][0]["attachment"]["filename"] == "gone.png"
    again = await call_error(client, "delete_attachment", attachment_id=gone["attachment_id"])
    assert again["code"] == "not_found"
    missing = await call_error(client, "get_attachment_data", attachment_id=gone["attachment_id"])
    assert missing["code"] == "not_found"


async def test_another_accounts_images_are_not_found(
    connect: Connect, alice: Principal, bob: Principal
) -> None:
    async with connect(alice) as client:
        entry_id = await new_entry(client)
        added = await call(
            client, "add_attachment", entry_id=entry_id, data=b64(png_bytes()), filename="a"
        )
    async with connect(bob) as client:
        on_entry = await call_error(
            client, "add_attachment", entry_id=entry_id, data=b64(png_bytes()), filename="b"
        )
        removal = await call_error(
            client, "delete_attachment", attachment_id=added["attachment_id"]
        )
    assert on_entry["code"] == removal["code"] == "not_found"
    async with connect(alice) as client:
        assert (await call(client, "get_entry", entry_id=entry_id))["entry"]["image_count"] == 1


async def test_a_read_only_key_is_not_offered_the_tools_and_cannot_call_them(
    connect: Connect, alice: Principal
) -> None:
    assert {"add_attachment", "delete_attachment"} <= WRITE_TOOLS
    async with connect(alice) as client:
        entry_id = await new_entry(client)
        added = await call(
            client, "add_attachment", entry_id=entry_id, data=b64(png_bytes()), filename="a"
        )
    async with connect(read_only(alice)) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        adding = await call_error(
            client, "add_attachment", entry_id=entry_id, data=b64(png_bytes()), filename="b"
        )
        removing = await call_error(
            client, "delete_attachment", attachment_id=added["attachment_id"]
        )
    assert not names & {"add_attachment", "delete_attachment"}
    assert adding["code"] == removing["code"] == "insufficient_scope"


async def test_list_and_search_answers_count_each_entrys_images(client: Client) -> None:
    with_two = await new_entry(client, "holiday photos by the sea")
    with_none = await new_entry(client, "holiday plans, no photos yet")
    for _ in range(2):
        await call(client, "add_attachment", entry_id=with_two, data=b64(png_bytes()), filename="p")

    listed = await call(client, "list_entries")
    found = await call(client, "search_entries", query="holiday")
    listed_text = (await client.call_tool("list_entries", {})).content[0].text  # type: ignore[union-attr]

    for answer in (listed, found):
        counts = {e["entry_id"]: e.get("image_count") for e in answer["entries"]}
        assert counts == {with_two: 2, with_none: None}
    assert "2 images" in listed_text
