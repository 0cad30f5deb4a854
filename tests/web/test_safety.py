"""The pages' safety: CSRF on every form, one account never sees another's, XSS, uploads."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from web_support import IMAGE_LIMIT, Site, hidden, sign_in

from trace_core.model import EntryDraft, NewStream
from trace_core.testing.images import declaring, png_bytes
from trace_http.web.pages._render import render_markdown
from trace_http.web.pages.entries import UPLOAD_MAX_BODY

pytestmark = pytest.mark.anyio


# --- CSRF ------------------------------------------------------------------------


def _forms(page: str) -> list[str]:
    return re.findall(r'<form method="post" action="([^"]+)"', page)


async def test_every_form_on_the_entry_page_carries_the_csrf_token(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    entry = await site.trace.create_entry(site.as_(site.alice), EntryDraft(content="x"))
    await site.trace.add_attachment(site.as_(site.alice), entry.entry_id, png_bytes())
    page = await alice_browser.get(f"/entries/{entry.entry_id}")
    forms = page.text.count('<form method="post"')
    assert forms >= 4  # sign out, remove image, upload, delete
    assert page.text.count('name="csrf_token"') == forms


WRITES = [
    ("/entries", {"content": "planted"}),
    ("/streams", {"name": "planted"}),
    ("/settings/account", {"name": "planted"}),
    ("/settings/password", {"current_password": "x", "new_password": "y", "confirm_password": "y"}),
]


@pytest.mark.parametrize(("path", "data"), WRITES)
async def test_a_post_without_the_token_or_from_another_origin_is_refused(
    site: Site, alice_browser: httpx.AsyncClient, path: str, data: dict[str, str]
) -> None:
    no_token = await alice_browser.post(path, data=data)
    assert no_token.status_code == 403
    page = await alice_browser.get("/home")
    token = hidden(page.text, "csrf_token")
    foreign = await alice_browser.post(
        path, data={**data, "csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    null_origin = await alice_browser.post(
        path, data={**data, "csrf_token": token}, headers={"Origin": "null"}
    )
    assert null_origin.status_code == 403
    assert (await site.trace.list_streams(site.as_(site.alice))) == []
    assert (await site.trace.get_account(site.alice.account_id)).name == "Alice"


async def test_entry_writes_refuse_a_missing_token(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    entry = await site.trace.create_entry(site.as_(site.alice), EntryDraft(content="x"))
    base = f"/entries/{entry.entry_id}"
    for path in (f"{base}/delete", f"{base}/edit", f"{base}/history/1/restore"):
        response = await alice_browser.post(path, data={"content": "y", "expected_version": "1"})
        assert response.status_code == 403, path
    upload = await alice_browser.post(f"{base}/images", files={"file": ("a.png", png_bytes())})
    assert upload.status_code == 403
    detail = await site.trace.get_entry(site.as_(site.alice), entry.entry_id)
    assert (detail.entry.version, detail.entry.content, detail.attachments) == (1, "x", [])


async def test_one_sessions_token_is_refused_in_another(site: Site) -> None:
    async with site.browser() as alice, site.browser() as bob:
        await sign_in(alice)
        await sign_in(bob, "bob@example.com")
        bobs_token = hidden((await bob.get("/home")).text, "csrf_token")
        response = await alice.post("/streams", data={"csrf_token": bobs_token, "name": "planted"})
        assert response.status_code == 403


# --- tenant isolation -----------------------------------------------------------------


async def test_another_accounts_entry_is_never_shown(site: Site) -> None:
    alice = site.as_(site.alice)
    stream = await site.trace.create_stream(alice, NewStream(name="Secret stream"))
    entry = await site.trace.create_entry(
        alice, EntryDraft(content="alice's secret words", title="Diary", stream_id=stream.stream_id)
    )
    image = await site.trace.add_attachment(alice, entry.entry_id, png_bytes())
    attachment_id = image.attachment.attachment_id
    async with site.browser() as bob:
        await sign_in(bob, "bob@example.com")
        token = hidden((await bob.get("/home")).text, "csrf_token")
        base = f"/entries/{entry.entry_id}"
        reads = [base, f"{base}/edit", f"{base}/history", f"/streams/{stream.stream_id}"]
        reads.append(f"/streams/{stream.stream_id}/edit")
        for path in reads:
            response = await bob.get(path)
            assert response.status_code == 404, path
            assert "secret" not in response.text.lower(), path
            assert "Sign in with another account" in response.text
        writes = [f"{base}/delete", f"{base}/history/1/restore", f"/trash/{entry.entry_id}/restore"]
        writes += [f"{base}/images/{attachment_id}/delete", f"/streams/{stream.stream_id}/edit"]
        for path in writes:
            response = await bob.post(
                path, data={"csrf_token": token, "name": "x", "expected_version": "1"}
            )
            assert response.status_code == 404, path
        edit = await bob.post(
            f"{base}/edit",
            data={"csrf_token": token, "content": "bob was here", "expected_version": "2"},
        )
        assert edit.status_code == 404
        upload = await bob.post(
            f"{base}/images",
            data={"csrf_token": token},
            files={"file": ("a.png", png_bytes(), "image/png")},
        )
        assert upload.status_code == 404
        search = await bob.get("/search", params={"q": "secret"})
        assert "Diary" not in search.text
        home = await bob.get("/home")
        assert "Diary" not in home.text
        assert "Secret stream" not in home.text
    detail = await site.trace.get_entry(alice, entry.entry_id)
    assert (detail.entry.content, detail.entry.version, len(detail.attachments)) == (
        "alice's secret words",
        2,
        1,
    )


async def test_a_signed_out_browser_gets_the_sign_in_page_for_an_entry(site: Site) -> None:
    entry = await site.trace.create_entry(site.as_(site.alice), EntryDraft(content="private"))
    async with site.browser() as stranger:
        response = await stranger.get(f"/entries/{entry.entry_id}")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=")
        page = await stranger.get(response.headers["location"])
        assert "private" not in page.text
        assert "Sign in" in page.text
        missing = await stranger.get(f"/entries/{uuid.uuid4()}")
        assert missing.status_code == 303


# --- XSS ----------------------------------------------------------------------------

PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "javascript_link": "[click](javascript:alert(1))",
    "javascript_autolink": "<javascript:alert(1)>",
    "event_handler": '<img src="x" onerror="alert(1)">',
    "svg": '<svg onload="alert(1)"><script>alert(1)</script></svg>',
    "svg_data_image": "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "style": "<style>body{display:none}</style>",
    "entity_js": "[x](jav&#x61;script:alert(1))",
}


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_markdown_renders_payloads_inert(payload: str) -> None:
    rendered = str(render_markdown(payload)).lower()
    assert "<script" not in rendered
    assert "<svg" not in rendered
    assert "<iframe" not in rendered
    assert "<style" not in rendered
    assert "javascript:" not in rendered.replace("&amp;", "&") or "href=" not in rendered
    assert not re.search(r"<[^>]+\son\w+\s*=", rendered)
    assert 'href="javascript' not in rendered
    assert 'src="data:' not in rendered


def test_the_sanitised_html_is_exactly_text_for_raw_html() -> None:
    assert str(render_markdown("<script>alert(1)</script>")) == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
    )
    assert str(render_markdown("[click](javascript:alert(1))")) == (
        "<p>[click](javascript:alert(1))</p>\n"
    )
    assert str(render_markdown("[ok](https://example.com)")) == (
        '<p><a href="https://example.com" rel="noopener noreferrer nofollow">ok</a></p>\n'
    )


async def test_an_entry_with_payloads_renders_them_inert_on_its_page(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    content = "\n\n".join(PAYLOADS.values())
    entry = await site.trace.create_entry(
        site.as_(site.alice),
        EntryDraft(content=content, title="<script>alert('t')</script>", tags=("<b>x</b>",)),
    )
    page = await alice_browser.get(f"/entries/{entry.entry_id}")
    assert page.status_code == 200
    body = page.text
    # The page's only scripts are ours, from our origin.
    assert re.findall(r"<script[^>]*>", body) == [
        '<script src="/static/htmx.min.js" defer>',
        '<script src="/static/app.js" defer>',
    ]
    assert "<svg" not in body
    assert "<iframe" not in body
    assert not re.search(r"<[^>]+\son(error|load)\s*=", body)
    assert 'href="javascript' not in body
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in body
    assert "#&lt;b&gt;x&lt;/b&gt;" in body


# --- uploads ------------------------------------------------------------------------


async def _entry_page(site: Site, browser: httpx.AsyncClient) -> tuple[str, str]:
    entry = await site.trace.create_entry(site.as_(site.alice), EntryDraft(content="pics"))
    page = await browser.get(f"/entries/{entry.entry_id}")
    return f"/entries/{entry.entry_id}", hidden(page.text, "csrf_token")


async def test_an_image_uploaded_shows_on_the_entry_page_and_can_be_removed(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    base, token = await _entry_page(site, alice_browser)
    response = await alice_browser.post(
        f"{base}/images",
        data={"csrf_token": token},
        files={"file": ("cat.png", png_bytes(4, 3), "image/png")},
    )
    assert response.status_code == 303
    page = await alice_browser.get(base)
    src = re.search(r'<img src="(/attachments/[^"]+)" alt="cat.png"', page.text)
    assert src
    image = await alice_browser.get(src.group(1).replace("&amp;", "&"))
    assert image.status_code == 200
    assert image.content == png_bytes(4, 3)
    remove = re.search(r'action="(/entries/[^"]+/images/[^"]+/delete)"', page.text)
    assert remove
    removed = await alice_browser.post(remove.group(1), data={"csrf_token": token})
    assert removed.status_code == 303
    assert 'alt="cat.png"' not in (await alice_browser.get(base)).text


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.txt", b"just some text, not a picture", "not"),
        ("big.png", png_bytes() + b"\0" * IMAGE_LIMIT, "at most 65,536 bytes"),
        ("bomb.png", declaring(png_bytes(), 30_000, 30_000), "pixels"),
        ("evil.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "SVG"),
    ],
)
async def test_a_refused_upload_says_why_and_stores_nothing(
    site: Site, alice_browser: httpx.AsyncClient, name: str, data: bytes, message: str
) -> None:
    base, token = await _entry_page(site, alice_browser)
    response = await alice_browser.post(
        f"{base}/images", data={"csrf_token": token}, files={"file": (name, data, "image/png")}
    )
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    alert = re.search(r'role="alert"><p>([^<]*)</p>', response.text)
    assert alert
    assert name in alert.group(1)
    assert message.lower() in alert.group(1).lower(), alert.group(1)
    detail = await site.trace.get_entry(site.as_(site.alice), uuid.UUID(base.rsplit("/", 1)[1]))
    assert detail.attachments == []
    assert detail.entry.version == 1


async def test_an_upload_over_the_body_limit_says_so_on_the_page_and_stores_nothing(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    base, token = await _entry_page(site, alice_browser)
    huge = b"\0" * (UPLOAD_MAX_BODY + 1024)
    response = await alice_browser.post(
        f"{base}/images", data={"csrf_token": token}, files={"file": ("huge.png", huge)}
    )
    assert response.status_code == 413
    alert = re.search(r'role="alert"><p>([^<]*)</p>', response.text)
    assert alert
    assert alert.group(1) == f"file: the upload is over {UPLOAD_MAX_BODY // 1_048_576} MB."
    detail = await site.trace.get_entry(site.as_(site.alice), uuid.UUID(base.rsplit("/", 1)[1]))
    assert detail.attachments == []


async def test_the_url_fetch_hands_out_opens_the_entry_for_its_owner_only(site: Site) -> None:
    entry = await site.trace.create_entry(
        site.as_(site.alice), EntryDraft(content="the owner's words", title="Mine")
    )
    key = await site.runtime.api_keys.create(site.alice.account_id, "ChatGPT", "read")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=site.app),  # type: ignore[arg-type]
        base_url="http://testserver.local",
    ) as assistant:
        answer = await assistant.post(
            "/mcp",
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": "fetch", "arguments": {"id": str(entry.entry_id)}},
            },
            headers={
                "Accept": "application/json, text/event-stream",
                "Mcp-Protocol-Version": "2025-06-18",
                "Authorization": f"Bearer {key.plaintext}",
            },
        )
    url = re.search(r'\\"url\\": ?\\"([^"\\]+)\\"', answer.text) or re.search(
        r'"url": ?"([^"]+)"', answer.text
    )
    assert url, answer.text
    path = url.group(1).removeprefix("http://testserver.local")
    assert path == f"/entries/{entry.entry_id}"
    async with site.browser() as owner:
        await sign_in(owner)
        page = await owner.get(path)
        assert page.status_code == 200
        assert "<h1>Mine</h1>" in page.text
        assert "words</p>" in page.text
    async with site.browser() as other:
        await sign_in(other, "bob@example.com")
        page = await other.get(path)
        assert page.status_code == 404
        assert "owner" not in page.text
        assert "Sign in with another account" in page.text
        assert f'href="/signin?next=%2Fentries%2F{entry.entry_id}"' in page.text


async def test_pages_let_images_come_from_a_blob_store_that_serves_its_own_urls(
    site: Site,
) -> None:
    async def presigned(
        key: str, *, ttl_seconds: int, content_type: str, filename: str | None = None
    ) -> str:
        return f"https://photos.s3.example.test/{key}?X-Amz-Signature=abc"

    site.trace.blobs.presigned_url = presigned  # type: ignore[method-assign]
    async with site.browser() as browser:
        await sign_in(browser)
        page = await browser.get("/home")
    csp = page.headers["content-security-policy"]
    assert "img-src 'self' blob: https://photos.s3.example.test;" in csp
    assert "X-Amz-Signature" not in csp


async def test_pages_take_images_from_this_origin_only_by_default(
    alice_browser: httpx.AsyncClient,
) -> None:
    page = await alice_browser.get("/home")
    assert "img-src 'self' blob:;" in page.headers["content-security-policy"]
