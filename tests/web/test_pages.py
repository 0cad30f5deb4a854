"""The people's pages: sign-in, the browser's way in at /, and each page working."""

from __future__ import annotations

import re

import httpx
import msgspec
import pytest
from web_support import ORIGIN, Site, hidden

from trace_core.model import EntryDraft, EntryPatch, EntrySettings, NewStream

pytestmark = pytest.mark.anyio


async def test_a_browser_opening_the_server_gets_the_app_or_the_sign_in_page(site: Site) -> None:
    async with site.browser() as browser:
        opened = await browser.get("/")
        assert opened.status_code == 303
        assert opened.headers["location"] == "/home"
        home = await browser.get("/home")
        assert home.status_code == 303
        assert home.headers["location"] == "/signin?next=%2Fhome"
        signin = await browser.get(home.headers["location"])
        assert signin.status_code == 200
        assert hidden(signin.text, "next") == "/home"


async def test_mcp_clients_keep_the_root(site: Site) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=site.app),  # type: ignore[arg-type]
        base_url=ORIGIN,
    ) as client:
        get = await client.get("/", headers={"Accept": "application/json, text/event-stream"})
        post = await client.post(
            "/",
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
            headers={"Accept": "application/json, text/event-stream"},
        )
    assert get.status_code == 401
    assert post.status_code == 401
    assert "resource_metadata" in post.headers["www-authenticate"]


async def test_sign_in_goes_back_to_the_page_asked_for_and_never_off_site(site: Site) -> None:
    entry = await site.trace.create_entry(site.as_(site.alice), EntryDraft(content="hello"))
    async with site.browser() as browser:
        asked = await browser.get(f"/entries/{entry.entry_id}")
        form = await browser.get(asked.headers["location"])
        nxt = hidden(form.text, "next")
        assert nxt == f"/entries/{entry.entry_id}"
        done = await browser.post(
            "/signin",
            data={
                "csrf_token": hidden(form.text, "csrf_token"),
                "email": "alice@example.com",
                "password": "correct horse battery staple",
                "next": "//evil.example/x",
            },
        )
        assert done.headers["location"] == "/settings/integrations"


async def test_home_shows_streams_pinned_and_recent_entries(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    alice = site.as_(site.alice)
    await site.trace.create_stream(alice, NewStream(name="Books"))
    pinned = EntryDraft(content="x", title="Pinned one", is_pinned=True)
    await site.trace.create_entry(alice, pinned)
    await site.trace.create_entry(alice, EntryDraft(content="y", title="Plain one"))
    page = await alice_browser.get("/home")
    assert page.status_code == 200
    assert "Books" in page.text
    assert "Pinned one" in page.text
    assert "Plain one" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]


async def test_the_entry_page_shows_markdown_tags_status_dates_and_the_streams_rating(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    alice = site.as_(site.alice)
    stream = await site.trace.create_stream(
        alice,
        NewStream(
            name="Films",
            entry_settings=EntrySettings(
                use_rating=True, use_status=True, statuses=("seen", "to see")
            ),
        ),
    )
    entry = await site.trace.create_entry(
        alice,
        EntryDraft(
            content="# Heading\n\nSome **bold** text",
            title="Alien",
            stream_id=stream.stream_id,
            tags=("scifi",),
            status="seen",
            rating=3.5,
        ),
    )
    page = await alice_browser.get(f"/entries/{entry.entry_id}")
    assert page.status_code == 200
    assert "<h1>Heading</h1>" in page.text
    assert "<strong>bold</strong>" in page.text
    assert "#scifi" in page.text
    assert "seen" in page.text
    assert "★★★½☆" in page.text
    assert entry.entry_date.isoformat() in page.text


async def test_a_stream_page_filters_by_status(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    alice = site.as_(site.alice)
    stream = await site.trace.create_stream(
        alice,
        NewStream(
            name="Tasks", entry_settings=EntrySettings(use_status=True, statuses=("todo", "done"))
        ),
    )
    for title, status in (("Open task", "todo"), ("Closed task", "done")):
        await site.trace.create_entry(
            alice,
            EntryDraft(content="c", title=title, stream_id=stream.stream_id, status=status),
        )
    page = await alice_browser.get(f"/streams/{stream.stream_id}", params={"status": "done"})
    assert page.status_code == 200
    assert "Closed task" in page.text
    assert "Open task" not in page.text
    bad = await alice_browser.get(f"/streams/{stream.stream_id}", params={"from": "soon"})
    assert bad.status_code == 400
    assert "from" in bad.text


async def test_creating_and_editing_an_entry_through_the_forms(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    form = await alice_browser.get("/entries/new")
    csrf = hidden(form.text, "csrf_token")
    created = await alice_browser.post(
        "/entries",
        data={"csrf_token": csrf, "title": "Day", "content": "First *draft*", "tags": "a, b"},
    )
    assert created.status_code == 303
    location = created.headers["location"]
    edit = await alice_browser.get(f"{location}/edit")
    assert hidden(edit.text, "expected_version") == "1"
    saved = await alice_browser.post(
        f"{location}/edit",
        data={
            "csrf_token": csrf,
            "expected_version": "1",
            "title": "Day",
            "content": "Second",
            "tags": "a",
            "action": "save",
        },
    )
    assert saved.status_code == 303
    page = await alice_browser.get(location)
    assert "Second" in page.text
    assert "version 2" in page.text


async def test_a_bad_field_is_named_and_the_text_kept(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    form = await alice_browser.get("/entries/new")
    response = await alice_browser.post(
        "/entries",
        data={
            "csrf_token": hidden(form.text, "csrf_token"),
            "content": "keep me",
            "entry_date": "31/12/2024",
        },
    )
    assert response.status_code == 400
    assert "entry_date" in response.text
    assert "keep me" in response.text


async def test_the_preview_renders_the_markdown(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    form = await alice_browser.get("/entries/new")
    response = await alice_browser.post(
        "/entries/preview",
        data={"csrf_token": hidden(form.text, "csrf_token"), "content": "*hi*"},
    )
    assert response.status_code == 200
    assert "<em>hi</em>" in response.text


async def test_saving_over_a_newer_version_shows_both_and_overwrites_nothing(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    alice = site.as_(site.alice)
    entry = await site.trace.create_entry(alice, EntryDraft(content="line one\nline two"))
    edit = await alice_browser.get(f"/entries/{entry.entry_id}/edit")
    await site.trace.update_entry(
        alice, entry.entry_id, EntryPatch(content="line one\nline two from the other tab")
    )
    data = {
        "csrf_token": hidden(edit.text, "csrf_token"),
        "expected_version": hidden(edit.text, "expected_version"),
        "content": "line one\nline two from me",
        "action": "save",
    }
    conflict = await alice_browser.post(f"/entries/{entry.entry_id}/edit", data=data)
    assert conflict.status_code == 409
    assert "from the other tab" in conflict.text
    assert "from me" in conflict.text
    stored = await site.trace.get_entry(alice, entry.entry_id)
    assert stored.entry.content.endswith("from the other tab")
    # Choosing mine saves over the version the conflict page showed.
    assert hidden(conflict.text, "expected_version") == "2"
    mine = await alice_browser.post(
        f"/entries/{entry.entry_id}/edit", data={**data, "expected_version": "2"}
    )
    assert mine.status_code == 303
    stored = await site.trace.get_entry(alice, entry.entry_id)
    assert stored.entry.content.endswith("from me")


async def test_search_shows_snippets_and_links_to_the_entry(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    entry = await site.trace.create_entry(
        site.as_(site.alice), EntryDraft(content="a walk by the lighthouse", title="Walk")
    )
    page = await alice_browser.get("/search", params={"q": "lighthouse"})
    assert page.status_code == 200
    assert f"/entries/{entry.entry_id}" in page.text
    assert "<mark>" in page.text
    typo = await alice_browser.get("/search", params={"q": "lighthuose"})
    assert f"/entries/{entry.entry_id}" in typo.text
    assert "Also searched: <strong>lighthouse</strong>" in typo.text
    nothing = await alice_browser.get("/search", params={"q": "lighthouse zebra"})
    assert "some words" in nothing.text  # the lighthouse entry fills the page, marked


async def test_search_says_when_more_entries_than_the_cap_match(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    site.trace.limits = msgspec.structs.replace(site.trace.limits, search_total_cap=3)
    for i in range(21):
        await site.trace.create_entry(site.as_(site.alice), EntryDraft(content=f"tide {i}"))
    page = await alice_browser.get("/search", params={"q": "tide"})
    assert "More than 3 entries have every word." in page.text


async def test_tags_page_counts_tags(site: Site, alice_browser: httpx.AsyncClient) -> None:
    alice = site.as_(site.alice)
    await site.trace.create_entry(alice, EntryDraft(content="x", tags=("garden",)))
    await site.trace.create_entry(alice, EntryDraft(content="y", tags=("garden",)))
    page = await alice_browser.get("/tags")
    assert "#garden" in page.text


async def test_delete_then_restore_from_the_trash(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    alice = site.as_(site.alice)
    entry = await site.trace.create_entry(alice, EntryDraft(content="x", title="Gone soon"))
    page = await alice_browser.get(f"/entries/{entry.entry_id}")
    csrf = hidden(page.text, "csrf_token")
    deleted = await alice_browser.post(
        f"/entries/{entry.entry_id}/delete", data={"csrf_token": csrf}
    )
    assert deleted.headers["location"] == "/trash"
    assert (await alice_browser.get(f"/entries/{entry.entry_id}")).status_code == 404
    trash = await alice_browser.get("/trash")
    assert "Gone soon" in trash.text
    restored = await alice_browser.post(
        f"/trash/{entry.entry_id}/restore", data={"csrf_token": csrf}
    )
    assert restored.status_code == 303
    assert (await alice_browser.get(f"/entries/{entry.entry_id}")).status_code == 200


async def test_history_shows_a_diff_and_restores_an_older_version(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    alice = site.as_(site.alice)
    entry = await site.trace.create_entry(alice, EntryDraft(content="old words"))
    await site.trace.update_entry(alice, entry.entry_id, EntryPatch(content="new words"))
    page = await alice_browser.get(f"/entries/{entry.entry_id}/history")
    assert page.status_code == 200
    assert '<span class="removed">- old words</span>' in page.text
    assert '<span class="added">+ new words</span>' in page.text
    restored = await alice_browser.post(
        f"/entries/{entry.entry_id}/history/1/restore",
        data={"csrf_token": hidden(page.text, "csrf_token"), "expected_version": "2"},
    )
    assert restored.status_code == 303
    assert (await site.trace.get_entry(alice, entry.entry_id)).entry.content == "old words"


async def test_creating_and_editing_a_stream_with_statuses(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    form = await alice_browser.get("/streams/new")
    csrf = hidden(form.text, "csrf_token")
    created = await alice_browser.post(
        "/streams",
        data={
            "csrf_token": csrf,
            "name": "Reading",
            "statuses": "to read\nreading\ndone",
            "default_status": "to read",
            "use_rating": "on",
            "rating_type": "numeric",
        },
    )
    assert created.status_code == 303
    streams = await site.trace.list_streams(site.as_(site.alice))
    settings = streams[0].entry_settings
    assert settings.statuses == ("to read", "reading", "done")
    assert settings.rating_type == "numeric"
    again = await alice_browser.post("/streams", data={"csrf_token": csrf, "name": "reading"})
    assert again.status_code == 400
    assert "exists" in again.text


async def test_account_name_and_password(site: Site, alice_browser: httpx.AsyncClient) -> None:
    page = await alice_browser.get("/settings/account")
    csrf = hidden(page.text, "csrf_token")
    saved = await alice_browser.post("/settings/account", data={"csrf_token": csrf, "name": "Ada"})
    assert saved.status_code == 200
    assert (await site.trace.get_account(site.alice.account_id)).name == "Ada"
    wrong = await alice_browser.post(
        "/settings/password",
        data={
            "csrf_token": csrf,
            "current_password": "nope",
            "new_password": "another long passphrase",
            "confirm_password": "another long passphrase",
        },
    )
    assert wrong.status_code == 400
    assert "current_password" in wrong.text


async def test_export_downloads_the_account_and_import_reads_it_back(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    await site.trace.create_entry(site.as_(site.alice), EntryDraft(content="kept"))
    exported = await alice_browser.get("/settings/data/export")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    assert b'"kept"' in exported.content
    async with site.browser() as bob:
        from web_support import sign_in

        await sign_in(bob, "bob@example.com")
        page = await bob.get("/settings/data")
        bad = await bob.post(
            "/settings/data/import",
            data={"csrf_token": hidden(page.text, "csrf_token")},
            files={"document": ("x.json", b"not json", "application/json")},
        )
        assert bad.status_code == 400
        assert "not valid JSON" in bad.text


async def test_integrations_offers_client_configs_and_asks_before_revoking(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    page = await alice_browser.get("/settings/integrations")
    assert "Claude Desktop" in page.text
    assert "claude mcp add --transport http trace http://testserver.local/mcp" in page.text
    assert "httpUrl" in page.text
    created = await alice_browser.post(
        "/settings/integrations/keys",
        data={"csrf_token": hidden(page.text, "csrf_token"), "name": "laptop", "scope": "full"},
    )
    key = created.text.split('class="secret">', 1)[1].split("<", 1)[0]
    assert f"Bearer {key}" in created.text  # the configurations come with the key in them
    listing = await alice_browser.get("/settings/integrations")
    link = listing.text.split('href="/settings/integrations/keys/', 1)[1].split('"', 1)[0]
    confirm = await alice_browser.get(f"/settings/integrations/keys/{link}")
    assert confirm.status_code == 200
    assert "Revoke the key “laptop”?" in confirm.text
    assert 'method="post"' in confirm.text


async def test_editing_a_stream_keeps_the_settings_the_form_does_not_show(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    alice = site.as_(site.alice)
    stream = await site.trace.create_stream(
        alice,
        NewStream(
            name="Trips",
            entry_settings=EntrySettings(use_location=True, title_template="Trip {date}"),
        ),
    )
    form = await alice_browser.get(f"/streams/{stream.stream_id}/edit")
    saved = await alice_browser.post(
        f"/streams/{stream.stream_id}/edit",
        data={
            "csrf_token": hidden(form.text, "csrf_token"),
            "name": "Journeys",
            "statuses": "planned\ndone",
        },
    )
    assert saved.status_code == 303
    settings = (await site.trace.get_stream(alice, stream.stream_id)).entry_settings
    assert (settings.use_location, settings.title_template) == (True, "Trip {date}")
    assert settings.statuses == ("planned", "done")


def test_times_are_shown_in_the_persons_zone() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from trace_http.web.pages._render import show_time, zone_of

    moment = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)
    assert show_time(moment, ZoneInfo("Europe/Paris")) == "2026-07-01 14:30 CEST"
    assert show_time(moment, zone_of(object())) == "2026-07-01 12:30 UTC"


async def test_the_time_zone_is_set_and_times_follow_it(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    home = await alice_browser.get("/home")
    assert 'id="tz-proposal"' in home.text  # still on the default zone: proposed
    csrf = hidden(home.text, "csrf_token")
    bad = await alice_browser.post(
        "/settings/time-zone", data={"csrf_token": csrf, "time_zone": "Mars/Olympus"}
    )
    assert bad.status_code == 400
    assert "time_zone" in bad.text
    saved = await alice_browser.post(
        "/settings/time-zone", data={"csrf_token": csrf, "time_zone": "europe/paris"}
    )
    assert saved.status_code == 200
    assert "Time zone set to Europe/Paris" in saved.text
    assert (await site.trace.get_account(site.alice.account_id)).time_zone == "Europe/Paris"
    assert 'id="tz-proposal"' not in (await alice_browser.get("/home")).text
    entry = await site.trace.create_entry(site.as_(site.alice), EntryDraft(content="x"))
    page = await alice_browser.get(f"/entries/{entry.entry_id}")
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d CE(S)?T", page.text)
    refused = await alice_browser.post("/settings/time-zone", data={"time_zone": "UTC"})
    assert refused.status_code == 403


async def test_restoring_from_a_stale_history_page_restores_nothing(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    alice = site.as_(site.alice)
    entry = await site.trace.create_entry(alice, EntryDraft(content="old words"))
    await site.trace.update_entry(alice, entry.entry_id, EntryPatch(content="new words"))
    page = await alice_browser.get(f"/entries/{entry.entry_id}/history")
    await site.trace.update_entry(alice, entry.entry_id, EntryPatch(content="newest words"))
    stale = await alice_browser.post(
        f"/entries/{entry.entry_id}/history/1/restore",
        data={"csrf_token": hidden(page.text, "csrf_token"), "expected_version": "2"},
    )
    assert stale.status_code == 409
    assert "The entry changed" in stale.text
    assert (await site.trace.get_entry(alice, entry.entry_id)).entry.content == "newest words"


async def test_archived_streams_are_listed_apart_on_home_and_still_open(
    site: Site, alice_browser: httpx.AsyncClient
) -> None:
    alice = site.as_(site.alice)
    kept = await site.trace.create_stream(alice, NewStream(name="Garden"))
    old = await site.trace.create_stream(alice, NewStream(name="Old project"))
    await site.trace.create_entry(alice, EntryDraft(content="notes", stream_id=old.stream_id))
    await site.trace.archive_stream(alice, old.stream_id)

    home = await alice_browser.get("/home")

    live, archived = home.text.split("Archived streams (1)")
    assert f"/streams/{kept.stream_id}" in live
    assert f"/streams/{old.stream_id}" not in live
    assert f"/streams/{old.stream_id}" in archived.split("</details>")[0]
    page = await alice_browser.get(f"/streams/{old.stream_id}")
    assert page.status_code == 200
    assert "Old project" in page.text
