"""Who may do what: tenant isolation, read-only keys, 401/403/429, and the cookie with CSRF."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from rest_support import bearer

from trace_core.testing.images import png_bytes
from trace_http.web.ratelimit import TokenBucketLimiter

pytestmark = pytest.mark.anyio

# Every route that names one of Alice's things: (method, path, JSON body or raw bytes).
BY_ID: list[tuple[str, str, Any]] = [
    ("GET", "/api/v1/streams/{stream_id}", None),
    ("PATCH", "/api/v1/streams/{stream_id}", {"name": "Mine"}),
    ("POST", "/api/v1/streams/{stream_id}/archive", None),
    ("GET", "/api/v1/entries?stream_id={stream_id}", None),
    ("GET", "/api/v1/search?query=dune&stream_id={stream_id}", None),
    ("GET", "/api/v1/entries/{entry_id}", None),
    ("PATCH", "/api/v1/entries/{entry_id}", {"title": "Mine"}),
    ("DELETE", "/api/v1/entries/{entry_id}", None),
    ("GET", "/api/v1/entries/{entry_id}/versions", None),
    ("GET", "/api/v1/entries/{entry_id}/versions/1", None),
    ("POST", "/api/v1/entries/{entry_id}/versions/1/restore", None),
    ("POST", "/api/v1/entries/{entry_id}/attachments", b"png"),
    ("GET", "/api/v1/attachments/{attachment_id}", None),
    ("DELETE", "/api/v1/attachments/{attachment_id}", None),
    ("POST", "/api/v1/trash/{trashed_id}/restore", None),
    ("DELETE", "/api/v1/keys/{key_id}", None),
]

# Every route that writes: (method, path, body).
WRITES: list[tuple[str, str, Any]] = [
    ("POST", "/api/v1/streams", {"name": "New"}),
    ("PATCH", "/api/v1/streams/{stream_id}", {"name": "Mine"}),
    ("POST", "/api/v1/streams/{stream_id}/archive", None),
    ("POST", "/api/v1/entries", {"content": "new"}),
    ("PATCH", "/api/v1/entries/{entry_id}", {"title": "Mine"}),
    ("DELETE", "/api/v1/entries/{entry_id}", None),
    ("POST", "/api/v1/entries/{entry_id}/versions/1/restore", None),
    ("POST", "/api/v1/entries/{entry_id}/attachments", b"png"),
    ("DELETE", "/api/v1/attachments/{attachment_id}", None),
    ("POST", "/api/v1/trash/{trashed_id}/restore", None),
    ("PATCH", "/api/v1/account", {"name": "Mallory"}),
    ("PUT", "/api/v1/account/password", {"new_password": "long enough"}),
    ("POST", "/api/v1/account/import", "export"),
    ("POST", "/api/v1/keys", {"name": "escalate", "scope": "full"}),
    ("DELETE", "/api/v1/keys/{key_id}", None),
]


async def call(
    http: httpx2.AsyncClient,
    method: str,
    path: str,
    body: Any,
    world: dict[str, str],
    headers: dict[str, str],
    export: Any = None,
) -> httpx2.Response:
    url = path.format(**world)
    if body == b"png":
        return await http.request(
            method, url, content=png_bytes(), headers={**headers, "Content-Type": "image/png"}
        )
    if body == "export":
        return await http.request(method, url, json=export, headers=headers)
    return await http.request(method, url, json=body, headers=headers)


async def snapshot(http: httpx2.AsyncClient) -> Any:
    """What Alice has, as the API shows it."""
    alice = bearer("alice-full")
    return [
        (await http.get(path, headers=alice)).json()
        for path in (
            "/api/v1/streams?include_archived=true",
            "/api/v1/entries?is_archived=all",
            "/api/v1/trash",
            "/api/v1/account",
            "/api/v1/keys",
            "/api/v1/tags",
        )
    ]


@pytest.mark.parametrize(("method", "path", "body"), BY_ID, ids=[f"{m} {p}" for m, p, _ in BY_ID])
async def test_another_accounts_ids_answer_404(
    http: httpx2.AsyncClient, world: dict[str, str], method: str, path: str, body: Any
) -> None:
    before = await snapshot(http)
    response = await call(http, method, path, body, world, bearer("bob-full"))
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_found"
    assert await snapshot(http) == before


async def test_another_account_sees_nothing_in_its_lists(
    http: httpx2.AsyncClient, world: dict[str, str]
) -> None:
    bob = bearer("bob-full")
    for path in ("/api/v1/streams?include_archived=true", "/api/v1/tags", "/api/v1/keys"):
        assert (await http.get(path, headers=bob)).json() == [], path
    for path in ("/api/v1/entries?is_archived=all", "/api/v1/trash"):
        assert (await http.get(path, headers=bob)).json()["items"] == [], path
    assert (await http.get("/api/v1/search?query=dune", headers=bob)).json()["hits"] == []
    assert (await http.get("/api/v1/account", headers=bob)).json()["email"] == "bob@example.com"
    exported = (await http.get("/api/v1/account/export", headers=bob)).json()
    assert (exported["entries"], exported["streams"], exported["attachments"]) == ([], [], [])


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
async def test_read_scope_keys_are_refused_every_write(
    http: httpx2.AsyncClient, world: dict[str, str], method: str, path: str, body: Any
) -> None:
    export = (await http.get("/api/v1/account/export", headers=bearer("alice-read"))).json()
    before = await snapshot(http)
    response = await call(http, method, path, body, world, bearer("alice-read"), export)
    assert response.status_code == 403, response.text
    problem = response.json()
    assert problem["code"] == "insufficient_scope"
    assert "insufficient_scope" in response.headers["www-authenticate"]
    assert await snapshot(http) == before


async def test_read_scope_keys_read(http: httpx2.AsyncClient, world: dict[str, str]) -> None:
    read = bearer("alice-read")
    for path in (
        "/api/v1/streams",
        "/api/v1/entries",
        "/api/v1/entries/{entry_id}",
        "/api/v1/entries/{entry_id}/versions",
        "/api/v1/search?query=dune",
        "/api/v1/tags",
        "/api/v1/trash",
        "/api/v1/attachments/{attachment_id}",
        "/api/v1/account",
        "/api/v1/keys",
        "/api/v1/account/export",
    ):
        response = await http.get(path.format(**world), headers=read)
        assert response.status_code == 200, (path, response.text)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}],
    ids=["none", "unknown token", "not bearer"],
)
async def test_without_a_valid_credential_401(
    http: httpx2.AsyncClient, headers: dict[str, str]
) -> None:
    for method, path in (("GET", "/api/v1/entries"), ("POST", "/api/v1/entries")):
        response = await http.request(method, path, json={"content": "x"}, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "unauthenticated"
        assert response.headers["www-authenticate"].startswith("Bearer ")
        assert "resource_metadata=" in response.headers["www-authenticate"]


async def test_each_request_counts_against_the_rate_limit(
    http: httpx2.AsyncClient, limiter: TokenBucketLimiter
) -> None:
    limiter.burst, limiter.rate = 3, 0.001
    limiter._buckets.clear()
    statuses = [
        (await http.get("/api/v1/tags", headers=bearer("alice-full"))).status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    limited = await http.get("/api/v1/tags", headers=bearer("alice-full"))
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["code"] == "rate_limited"
    # Another credential has its own budget.
    assert (await http.get("/api/v1/tags", headers=bearer("bob-full"))).status_code == 200


async def test_cookie_sign_in_reads_and_writes_only_with_csrf(
    http: httpx2.AsyncClient, alice_cookie: dict[str, Any]
) -> None:
    http.cookies.set("trace_session", alice_cookie["cookie"])
    me = await http.get("/api/v1/account")
    assert me.json()["email"] == "alice@example.com"
    no_token = await http.post("/api/v1/entries", json={"content": "forged"})
    assert no_token.status_code == 403
    assert no_token.json()["field"] == "X-CSRF-Token"
    wrong = await http.post(
        "/api/v1/entries", json={"content": "forged"}, headers={"X-CSRF-Token": "0" * 64}
    )
    assert wrong.status_code == 403
    other_site = await http.post(
        "/api/v1/entries",
        json={"content": "forged"},
        headers={"X-CSRF-Token": alice_cookie["csrf"], "Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403
    for method in ("PATCH", "PUT", "DELETE"):
        refused = await http.request(method, "/api/v1/account", json={"name": "x"})
        assert refused.status_code in (403, 405), method
    assert (await http.get("/api/v1/entries")).json()["total"] == 0
    ok = await http.post(
        "/api/v1/entries",
        json={"content": "mine"},
        headers={"X-CSRF-Token": alice_cookie["csrf"], "Origin": "http://testserver"},
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["last_edited_by"] == "web"


async def test_a_forged_or_ended_cookie_is_not_a_sign_in(
    http: httpx2.AsyncClient, alice_cookie: dict[str, Any], runtime: Any
) -> None:
    http.cookies.set("trace_session", alice_cookie["cookie"] + "0")
    assert (await http.get("/api/v1/account")).status_code == 401
    http.cookies.set("trace_session", alice_cookie["cookie"])
    await runtime.web_sessions.end(alice_cookie["cookie"].rsplit(".", 1)[0])
    assert (await http.get("/api/v1/account")).status_code == 401


async def test_browser_clients_of_other_origins_can_read_etag_and_link(
    http: httpx2.AsyncClient, world: dict[str, str]
) -> None:
    response = await http.get(
        f"/api/v1/entries/{world['entry_id']}",
        headers={**bearer("alice-full"), "Origin": "https://app.example"},
    )
    exposed = response.headers["access-control-expose-headers"].lower()
    assert {"etag", "link", "location"} <= {h.strip() for h in exposed.split(",")}
    # A cookie never travels cross-origin: credentials are not allowed.
    assert "access-control-allow-credentials" not in response.headers
