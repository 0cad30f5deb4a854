"""Every /api/v1 route answers as documented, and its error paths as problems naming the field."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from rest_support import bearer

pytestmark = pytest.mark.anyio

ALICE = bearer("alice-full")
PROBLEM = "application/problem+json"


def problem(response: httpx2.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:trace:problem:{code}"
    return body


async def test_streams(http: httpx2.AsyncClient, world: dict[str, str]) -> None:
    sid = world["stream_id"]
    listed = await http.get("/api/v1/streams", headers=ALICE)
    assert [s["name"] for s in listed.json()] == ["Books"]
    got = await http.get(f"/api/v1/streams/{sid}", headers=ALICE)
    assert got.json()["entry_settings"]["statuses"] == ["to read"]
    changed = await http.patch(
        f"/api/v1/streams/{sid}",
        json={"description": "Read", "entry_settings": {"statuses": ["to read", "done"]}},
        headers=ALICE,
    )
    assert changed.json()["description"] == "Read"
    assert changed.json()["entry_settings"]["use_status"] is True
    archived = await http.post(f"/api/v1/streams/{sid}/archive", headers=ALICE)
    assert archived.json()["is_archived"] is True
    assert (await http.get("/api/v1/streams", headers=ALICE)).json() == []
    both = await http.get("/api/v1/streams?include_archived=true", headers=ALICE)
    assert len(both.json()) == 1
    back = await http.post(f"/api/v1/streams/{sid}/archive?archived=false", headers=ALICE)
    assert back.json()["is_archived"] is False


async def test_stream_errors_name_the_field(
    http: httpx2.AsyncClient, world: dict[str, str]
) -> None:
    taken = await http.post("/api/v1/streams", json={"name": "Books"}, headers=ALICE)
    problem(taken, 409, "conflict")
    unknown = await http.post("/api/v1/streams", json={"name": "X", "colour": "red"}, headers=ALICE)
    assert problem(unknown, 400, "invalid_input")["detail"]
    long = await http.post("/api/v1/streams", json={"name": "x" * 201}, headers=ALICE)
    assert problem(long, 400, "invalid_input")["field"] == "name"
    rating = await http.patch(
        f"/api/v1/streams/{world['stream_id']}",
        json={"entry_settings": {"rating_type": "emoji"}},
        headers=ALICE,
    )
    assert "rating_type" in problem(rating, 400, "invalid_input")["field"]
    nothing = await http.patch(f"/api/v1/streams/{world['stream_id']}", json={}, headers=ALICE)
    assert problem(nothing, 400, "invalid_input")["allowed"]
    not_json = await http.post(
        "/api/v1/streams", content=b"{nope", headers={**ALICE, "Content-Type": "application/json"}
    )
    problem(not_json, 400, "invalid_input")
    bad_id = await http.get("/api/v1/streams/not-a-uuid", headers=ALICE)
    assert bad_id.status_code in (400, 404)
    assert bad_id.headers["content-type"].startswith(PROBLEM)


async def test_entries_list_filters_and_paging(
    http: httpx2.AsyncClient, world: dict[str, str]
) -> None:
    for i in range(3):
        await http.post(
            "/api/v1/entries",
            json={
                "content": f"note {i}",
                "tags": ["x", f"n{i}"],
                "entry_date": f"2026-01-0{i + 1}",
            },
            headers=ALICE,
        )
    first = await http.get("/api/v1/entries?tags=x&limit=2", headers=ALICE)
    assert first.status_code == 200
    page = first.json()
    assert (len(page["items"]), page["total"]) == (2, 3)
    link = first.headers["link"]
    assert link.endswith('>; rel="next"')
    second = await http.get(link[1 : link.index(">")], headers=ALICE)
    assert [e["content"] for e in second.json()["items"]] == ["note 0"]
    assert "link" not in second.headers
    inbox = await http.get("/api/v1/entries?stream_id=inbox", headers=ALICE)
    assert all(e["stream_id"] is None for e in inbox.json()["items"])
    in_stream = await http.get(f"/api/v1/entries?stream_id={world['stream_id']}", headers=ALICE)
    assert [e["entry_id"] for e in in_stream.json()["items"]] == [world["entry_id"]]
    assert in_stream.json()["items"][0]["image_count"] == 1
    both_tags = await http.get("/api/v1/entries?tags=x&tags=n1&tags_mode=all", headers=ALICE)
    assert [e["content"] for e in both_tags.json()["items"]] == ["note 1"]
    dated = await http.get(
        "/api/v1/entries?start_date=2026-01-02&end_date=2026-01-02", headers=ALICE
    )
    assert [e["content"] for e in dated.json()["items"]] == ["note 1"]
    text = await http.get("/api/v1/entries?query=dune&include_content=false", headers=ALICE)
    assert [e["content"] for e in text.json()["items"]] == [None]
    short = await http.get("/api/v1/entries?tags=n2&content_limit=2", headers=ALICE)
    assert short.json()["items"][0]["content"] == "no..."
    status = await http.get("/api/v1/entries?status=to%20read", headers=ALICE)
    assert status.json()["total"] == 1
    archived = await http.get("/api/v1/entries?is_archived=all&is_pinned=false", headers=ALICE)
    assert archived.json()["total"] == 4


async def test_entries_list_errors(http: httpx2.AsyncClient) -> None:
    assert (
        problem(await http.get("/api/v1/entries?limit=0", headers=ALICE), 400, "invalid_input")[
            "field"
        ]
        == "limit"
    )
    assert (
        problem(
            await http.get("/api/v1/entries?start_date=yesterday", headers=ALICE),
            400,
            "invalid_input",
        )["field"]
        == "start_date"
    )
    assert (
        problem(
            await http.get("/api/v1/entries?cursor=forged", headers=ALICE), 400, "invalid_input"
        )["field"]
        == "cursor"
    )
    assert (
        problem(await http.get("/api/v1/entries?colour=red", headers=ALICE), 400, "invalid_input")[
            "field"
        ]
        == "colour"
    )
    missing = await http.get(
        "/api/v1/entries?stream_id=00000000-0000-4000-8000-000000000000", headers=ALICE
    )
    problem(missing, 404, "not_found")


async def test_entry_read_write_and_etags(http: httpx2.AsyncClient, world: dict[str, str]) -> None:
    eid = world["entry_id"]
    got = await http.get(f"/api/v1/entries/{eid}", headers=ALICE)
    assert got.headers["etag"] == '"3"'  # created, changed, image added
    detail = got.json()
    assert detail["stream"]["name"] == "Books"
    assert detail["attachments"][0]["url"] == f"/api/v1/attachments/{world['attachment_id']}"
    changed = await http.patch(
        f"/api/v1/entries/{eid}",
        json={"title": "Dune", "status": "to read", "due_date": None},
        headers={**ALICE, "If-Match": '"3"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"4"'
    stale = await http.patch(
        f"/api/v1/entries/{eid}", json={"title": "Old"}, headers={**ALICE, "If-Match": '"3"'}
    )
    body = problem(stale, 412, "version_conflict")
    assert (body["expected_version"], body["current_version"]) == (3, 4)
    bad_match = await http.patch(
        f"/api/v1/entries/{eid}", json={"title": "x"}, headers={**ALICE, "If-Match": "latest"}
    )
    assert problem(bad_match, 400, "invalid_input")["field"] == "If-Match"
    bad_status = await http.patch(f"/api/v1/entries/{eid}", json={"status": "lost"}, headers=ALICE)
    body = problem(bad_status, 400, "invalid_input")
    assert (body["field"], body["allowed"]) == ("status", ["to read"])
    nothing = await http.patch(f"/api/v1/entries/{eid}", json={}, headers=ALICE)
    assert problem(nothing, 400, "invalid_input")["allowed"]
    id_in_body = await http.patch(
        f"/api/v1/entries/{eid}", json={"entry_id": eid, "title": "x"}, headers=ALICE
    )
    problem(id_in_body, 400, "invalid_input")
    empty = await http.post("/api/v1/entries", json={"content": "   "}, headers=ALICE)
    assert problem(empty, 400, "invalid_input")["field"] == "content"
    stale_delete = await http.delete(f"/api/v1/entries/{eid}", headers={**ALICE, "If-Match": '"1"'})
    problem(stale_delete, 412, "version_conflict")
    deleted = await http.delete(f"/api/v1/entries/{eid}", headers={**ALICE, "If-Match": '"4"'})
    assert deleted.json()["deleted_at"] is not None
    problem(await http.get(f"/api/v1/entries/{eid}", headers=ALICE), 404, "not_found")


async def test_search_and_tags(http: httpx2.AsyncClient, world: dict[str, str]) -> None:
    found = await http.get("/api/v1/search?query=dune", headers=ALICE)
    assert found.status_code == 200, found.text
    assert [h["entry"]["entry_id"] for h in found.json()["hits"]] == [world["entry_id"]]
    assert (found.json()["total"], found.json()["total_more"]) == (1, False)
    assert found.json()["hits"][0]["relaxed"] is False
    typo = await http.get("/api/v1/search?query=dnue", headers=ALICE)
    assert [h["entry"]["entry_id"] for h in typo.json()["hits"]] == [world["entry_id"]]
    assert typo.json()["corrected"] == {"dnue": ["dune"]}
    filtered = await http.get("/api/v1/search?query=dune&stream_id=inbox", headers=ALICE)
    assert filtered.json()["hits"] == []
    assert filtered.json()["suggestions"]
    problem(await http.get("/api/v1/search", headers=ALICE), 400, "invalid_input")
    problem(await http.get("/api/v1/search?query=", headers=ALICE), 400, "invalid_input")
    tags = await http.get("/api/v1/tags", headers=ALICE)
    assert tags.json() == [{"tag": "sf", "count": 1}]


async def test_versions(http: httpx2.AsyncClient, world: dict[str, str]) -> None:
    eid = world["entry_id"]
    listed = await http.get(f"/api/v1/entries/{eid}/versions", headers=ALICE)
    assert [v["version"] for v in listed.json()] == [3, 2, 1]
    assert listed.json()[0]["action"] == "attachment_added"
    paged = await http.get(
        f"/api/v1/entries/{eid}/versions?limit=1&offset=1&include_content=false", headers=ALICE
    )
    assert [(v["version"], v["entry"]["content"]) for v in paged.json()] == [(2, None)]
    one = await http.get(f"/api/v1/entries/{eid}/versions/1", headers=ALICE)
    assert one.json()["entry"]["content"] == "Dune, the first"
    problem(await http.get(f"/api/v1/entries/{eid}/versions/9", headers=ALICE), 404, "not_found")
    stale = await http.post(
        f"/api/v1/entries/{eid}/versions/1/restore", headers={**ALICE, "If-Match": '"2"'}
    )
    problem(stale, 412, "version_conflict")
    restored = await http.post(
        f"/api/v1/entries/{eid}/versions/1/restore", headers={**ALICE, "If-Match": '"3"'}
    )
    assert restored.status_code == 200, restored.text
    assert (restored.json()["content"], restored.headers["etag"]) == ("Dune, the first", '"4"')
    again = await http.get(f"/api/v1/entries/{eid}/versions?limit=1", headers=ALICE)
    assert again.json()[0]["action"] == "version_restored"


async def test_trash(http: httpx2.AsyncClient, world: dict[str, str]) -> None:
    listed = await http.get("/api/v1/trash", headers=ALICE)
    assert [e["entry_id"] for e in listed.json()["items"]] == [world["trashed_id"]]
    restored = await http.post(f"/api/v1/trash/{world['trashed_id']}/restore", headers=ALICE)
    assert restored.json()["deleted_at"] is None
    again = await http.post(f"/api/v1/trash/{world['trashed_id']}/restore", headers=ALICE)
    problem(again, 409, "conflict")
    assert (await http.get("/api/v1/trash", headers=ALICE)).json()["items"] == []


async def test_account(http: httpx2.AsyncClient, runtime: Any) -> None:
    me = await http.get("/api/v1/account", headers=ALICE)
    assert me.json()["email"] == "alice@example.com"
    assert "password_hash" not in me.json()
    renamed = await http.patch("/api/v1/account", json={"name": "Alice B."}, headers=ALICE)
    assert renamed.json()["name"] == "Alice B."
    problem(
        await http.patch("/api/v1/account", json={"name": "a\x00b"}, headers=ALICE),
        400,
        "invalid_input",
    )
    problem(await http.patch("/api/v1/account", json={}, headers=ALICE), 400, "invalid_input")
    short = await http.put(
        "/api/v1/account/password", json={"new_password": "short"}, headers=ALICE
    )
    assert problem(short, 400, "invalid_input")["field"] == "password"
    first = await http.put(
        "/api/v1/account/password", json={"new_password": "correct horse"}, headers=ALICE
    )
    assert first.json()["has_password"] is True
    wrong = await http.put(
        "/api/v1/account/password",
        json={"new_password": "another one", "current_password": "nope"},
        headers=ALICE,
    )
    assert problem(wrong, 403, "permission_denied")["field"] == "current_password"
    right = await http.put(
        "/api/v1/account/password",
        json={"new_password": "another one", "current_password": "correct horse"},
        headers=ALICE,
    )
    assert right.status_code == 200, right.text


async def test_keys(http: httpx2.AsyncClient, world: dict[str, str]) -> None:
    listed = await http.get("/api/v1/keys", headers=ALICE)
    assert [k["name"] for k in listed.json()] == ["script"]
    assert "secret" not in listed.json()[0]
    created = await http.post("/api/v1/keys", json={"name": "ci", "scope": "full"}, headers=ALICE)
    assert created.json()["secret"].startswith("trace_")
    assert created.headers["cache-control"] == "no-store"
    bad = await http.post("/api/v1/keys", json={"name": "x", "scope": "admin"}, headers=ALICE)
    assert problem(bad, 400, "invalid_input")["field"] == "scope"
    revoked = await http.delete(f"/api/v1/keys/{world['key_id']}", headers=ALICE)
    assert revoked.json()["revoked_at"] is not None
    gone = await http.delete("/api/v1/keys/00000000-0000-4000-8000-000000000000", headers=ALICE)
    problem(gone, 404, "not_found")


async def test_export_and_import(http: httpx2.AsyncClient, world: dict[str, str]) -> None:
    exported = await http.get("/api/v1/account/export", headers=ALICE)
    assert exported.status_code == 200
    document = exported.json()
    assert document["format"] == "trace-export"
    assert len(document["entries"]) == 2
    # The same ids again: refused, and nothing is written (bob has nothing after it).
    clash = await http.post("/api/v1/account/import", json=document, headers=bearer("bob-full"))
    problem(clash, 409, "conflict")
    assert (await http.get("/api/v1/entries", headers=bearer("bob-full"))).json()["total"] == 0
    assert (await http.get("/api/v1/streams", headers=bearer("bob-full"))).json() == []
    wrong = await http.post(
        "/api/v1/account/import", json={**document, "format": "other"}, headers=ALICE
    )
    problem(wrong, 400, "invalid_input")
    fresh = {**document, "streams": [], "versions": [], "attachments": [], "entries": []}
    empty = await http.post("/api/v1/account/import", json=fresh, headers=bearer("bob-full"))
    assert empty.json() == {"streams": 0, "entries": 0, "versions": 0, "attachments": 0}


async def test_unknown_routes_and_methods_are_problems(http: httpx2.AsyncClient) -> None:
    problem(await http.get("/api/v1/nothing", headers=ALICE), 404, "not_found")
    wrong = await http.put("/api/v1/tags", headers=ALICE)
    problem(wrong, 405, "method_not_allowed")


async def test_account_time_zone(http: httpx2.AsyncClient) -> None:
    assert (await http.get("/api/v1/account", headers=ALICE)).json()["time_zone"] == "UTC"
    both = await http.patch(
        "/api/v1/account", json={"time_zone": "Europe/Paris", "name": "Alice P."}, headers=ALICE
    )
    assert (both.json()["time_zone"], both.json()["name"]) == ("Europe/Paris", "Alice P.")
    # A bad zone changes nothing, not even the name sent with it.
    bad = await http.patch(
        "/api/v1/account", json={"time_zone": "Mars/Olympus", "name": "Nope"}, headers=ALICE
    )
    assert problem(bad, 400, "invalid_input")["field"] == "time_zone"
    me = (await http.get("/api/v1/account", headers=ALICE)).json()
    assert (me["time_zone"], me["name"]) == ("Europe/Paris", "Alice P.")
    refused = await http.patch(
        "/api/v1/account", json={"time_zone": "UTC"}, headers=bearer("alice-read")
    )
    problem(refused, 403, "insufficient_scope")


async def test_entries_sort_and_due_filters(http: httpx2.AsyncClient) -> None:
    # The test clock's today is 2026-01-15.
    for i, due in enumerate(("2026-01-10", "2026-01-20", "2026-03-01", "2026-01-02")):
        await http.post(
            "/api/v1/entries", json={"content": f"task {i}", "due_date": due}, headers=ALICE
        )
    by_due = await http.get("/api/v1/entries?sort=due_date", headers=ALICE)
    assert [e["content"] for e in by_due.json()["items"]] == [
        "task 3",
        "task 0",
        "task 1",
        "task 2",
    ]
    before = await http.get("/api/v1/entries?due_before=2026-01-15&sort=due_date", headers=ALICE)
    assert [e["content"] for e in before.json()["items"]] == ["task 3", "task 0"]
    overdue = await http.get("/api/v1/entries?overdue=true&sort=-due_date", headers=ALICE)
    assert [e["content"] for e in overdue.json()["items"]] == ["task 0", "task 3"]
    bad = await http.get("/api/v1/entries?sort=colour", headers=ALICE)
    assert problem(bad, 400, "invalid_input")["field"] == "sort"
