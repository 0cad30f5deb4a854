"""Two ``trace serve`` replicas on one PostgreSQL database: what one does, the other honours.

The hosted profile runs N stateless replicas behind a load balancer. Here two real
server processes share one fresh database and one attachment directory, each with
its own data directory; the secrets replicas must share come from settings
(``auth.session_secret``, ``auth.credential_hash_key``, ``server.cursor_secret``,
``mcp.attachment_url_secret``), and both have the same public URL, the load
balancer's. The test plays the load balancer: it picks the replica for every
request. Both replicas start at once on the empty database, so both migrate it
concurrently (Alembic under an advisory lock).

Shown: an OAuth code issued at one is redeemed at the other (a sign-in session
and its CSRF token carry over too); a key or token revoked through one is refused
by the other on the next request; the per-key rate limit is one budget; an
attachment URL signed by one downloads from the other; a cursor from one pages
at the other; both purge the trash at once, each expired entry exactly once
(whether the two runs overlap is up to the scheduler; tests/sql/test_purge.py
holds one replica's batch open while the other takes its own).

Not shown here: the Meilisearch outbox worker running on both replicas (no
Meilisearch server in this environment). Its items are applied idempotently
("make the index match the entry as it is now"), which tests/search covers
against a fake client; running it on two replicas needs a Meilisearch server.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
import secrets
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio
import httpx
import pytest
import sqlalchemy as sa
from e2e_support import (
    Server,
    free_port,
    png,
    run_blocking,
    start_server,
    stop_server,
    trace_command,
)
from sqlalchemy.engine import make_url

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.slow]

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PASSWORD = "correct horse battery staple"
EMAIL = "alice@example.com"
CALLBACK = "http://localhost:3030/callback"
BURST = 20
RATE = 0.000001
"""Requests one key may make, and per second after that: the window (BURST / RATE s,
epoch-aligned) is months long, so the test never sees it roll over."""
EXPIRED = 60
"""Trashed entries, past their retention, that the two replicas purge at once."""

SHARED_SECRETS = {
    "TRACE_AUTH_SESSION_SECRET": "replicas-share-this-session-secret-0123456789",
    "TRACE_AUTH_CREDENTIAL_HASH_KEY": "replicas-share-this-credential-pepper-0123456789",
    "TRACE_SERVER_CURSOR_SECRET": "replicas-share-this-cursor-secret-0123456789",
    "TRACE_MCP_ATTACHMENT_URL_SECRET": "replicas-share-this-attachment-secret-0123456789",
}
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "Mcp-Protocol-Version": "2025-06-18",
}


@dataclass
class Cluster:
    """Two replicas, the load balancer's URL, and what was seeded."""

    a: Server
    b: Server
    public_url: str
    database_url: str
    blobs: Path
    account_id: str = ""
    keys: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)
    attachment_id: str = ""
    attachment: bytes = b""


# --- the database and the two replicas ------------------------------------------------


async def _admin(admin_url: sa.URL, statement: str) -> None:
    from trace_sql.engine import create_engine

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"timeout": 5})
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (not migrated: the replicas do that)."""
    admin_url = make_url(os.environ.get("TRACE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    name = f"trace_replicas_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        run_blocking(lambda: _admin(admin_url, f'CREATE DATABASE "{name}"'))
    except (OSError, TimeoutError, sa.exc.DBAPIError) as exc:
        message = f"PostgreSQL is not reachable ({type(exc).__name__}); set TRACE_TEST_POSTGRES_URL"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (CI=true: Postgres tests are required)", pytrace=False)
        pytest.skip(message)
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        run_blocking(lambda: _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _seed(cluster: Cluster) -> None:
    """Alice, her keys, entries and an attachment, through the same runtime a replica builds."""
    from trace_core import EntryDraft, Scope
    from trace_http.bootstrap import open_runtime
    from trace_http.settings import load_settings
    from trace_oauth import hash_password

    async with open_runtime(load_settings(env=cluster.a.env), run_migrations=False) as runtime:
        trace = runtime.trace
        alice = await trace.create_account(EMAIL, password_hash=hash_password(PASSWORD))
        cluster.account_id = str(alice.account_id)
        for name, scope in [("main", Scope.FULL), ("doomed", Scope.FULL), ("burst", Scope.READ)]:
            created = await runtime.api_keys.create(alice.account_id, name, scope)
            cluster.keys[name] = created.plaintext
            cluster.key_ids[name] = str(created.key.key_id)
        me = trace.principal_for(alice, actor="seed")
        for n in range(7):
            await trace.create_entry(me, EntryDraft(content=f"note {n}", tags=("paged",)))
        pictured = await trace.create_entry(me, EntryDraft(content="with a picture"))
        cluster.attachment = png(5, 4)
        attachment = (
            await trace.add_attachment(me, pictured.entry_id, cluster.attachment)
        ).attachment
        cluster.attachment_id = str(attachment.attachment_id)


@pytest.fixture(scope="module")
def app_role(database: str) -> Iterator[str]:
    """The role the replicas' queries run as, under row-level security (the hosted profile)."""
    admin_url = make_url(os.environ.get("TRACE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    role = f"trace_replicas_app_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    run_blocking(lambda: _admin(admin_url, f'CREATE ROLE "{role}" NOLOGIN'))
    try:
        yield role
    finally:
        run_blocking(lambda: _admin(make_url(database), f'DROP OWNED BY "{role}"'))
        run_blocking(lambda: _admin(admin_url, f'DROP ROLE "{role}"'))


@pytest.fixture(scope="module")
def cluster(
    database: str, app_role: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """Both replicas, started at the same moment on the empty database, and the seed.

    They run their queries as an application role under row-level security
    (``storage.database_app_role``), as the hosted profile does.
    """
    root = tmp_path_factory.mktemp("replicas")
    blobs = root / "shared-blobs"
    public_url = f"http://127.0.0.1:{free_port()}"  # the load balancer nobody calls directly
    env = {
        **SHARED_SECRETS,
        "TRACE_DATABASE_URL": database,
        "TRACE_STORAGE_DATABASE_APP_ROLE": app_role,
        "TRACE_PUBLIC_URL": public_url,
        "TRACE_STORAGE_BLOBS_PATH": str(blobs),
        "TRACE_MCP_RATE_LIMIT_BURST": str(BURST),
        "TRACE_MCP_RATE_LIMIT_PER_SECOND": f"{RATE:f}",
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        starting = [pool.submit(start_server, root / name, env) for name in ("a", "b")]
        started = []
        failure: BaseException | None = None
        for future in starting:
            try:
                started.append(future.result())
            except BaseException as exc:  # a replica did not start: stop the other
                failure = exc
    try:
        if failure is not None:
            raise failure
        (_, a), (_, b) = started
        running = Cluster(a=a, b=b, public_url=public_url, database_url=database, blobs=blobs)
        run_blocking(lambda: _seed(running))
        yield running
    finally:
        for process, _ in started:
            stop_server(process)


# --- helpers: an MCP call, the person's browser, PKCE ------------------------------------


async def _call(
    http: httpx.AsyncClient, server: Server, token: str, tool: str, **arguments: Any
) -> httpx.Response:
    return await http.post(
        f"{server.url}/mcp",
        headers={**MCP_HEADERS, "Authorization": f"Bearer {token}"},
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": tool, "arguments": arguments},
        },
    )


def _result(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert not result.get("isError"), result
    return result["structuredContent"]


def _field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no {name} field on the page"
    return html.unescape(match.group(1))


async def _sign_in(browser: httpx.AsyncClient, server: Server) -> str:
    """Sign in on ``server``'s /signin page; return the Settings → Integrations page."""
    form = await browser.get(f"{server.url}/signin")
    signed = await browser.post(
        f"{server.url}/signin",
        data={"csrf_token": _field(form.text, "csrf_token"), "email": EMAIL, "password": PASSWORD},
    )
    assert signed.status_code == 303, signed.text
    page = await browser.get(f"{server.url}/settings/integrations")
    assert page.status_code == 200, page.text
    return page.text


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# --- the behaviours ------------------------------------------------------------------------


async def test_an_oauth_code_issued_by_one_replica_is_redeemed_at_the_other_and_spent_at_both(
    cluster: Cluster,
) -> None:
    a, b = cluster.a, cluster.b
    verifier, challenge = _pkce()
    async with httpx.AsyncClient(timeout=30) as browser:
        registered = await browser.post(
            f"{a.url}/register",
            json={
                "client_name": "replica client",
                "redirect_uris": [CALLBACK],
                "token_endpoint_auth_method": "none",
            },
        )
        assert registered.status_code == 201, registered.text
        client_id = registered.json()["client_id"]
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": CALLBACK,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "state": "s-1",
                "scope": "full",
                "resource": f"{cluster.public_url}/mcp",
            }
        )
        login = await browser.get(f"{a.url}/authorize?{query}")
        assert login.status_code == 200, login.text
        consent = await browser.post(
            f"{a.url}/authorize/login",
            data={
                "csrf_token": _field(login.text, "csrf_token"),
                "request": _field(login.text, "request"),
                "email": EMAIL,
                "password": PASSWORD,
            },
        )
        assert consent.status_code == 200, consent.text
        # The sign-in session (cookie from A) and its CSRF token are honoured by B.
        decision = await browser.post(
            f"{b.url}/authorize/consent",
            data={
                "csrf_token": _field(consent.text, "csrf_token"),
                "request": _field(consent.text, "request"),
                "scope": "full",
                "decision": "allow",
            },
        )
        assert decision.status_code == 302, decision.text
        redirect = parse_qs(urlsplit(decision.headers["location"]).query)
        assert redirect["iss"] == [cluster.public_url]
        tokens = await browser.post(
            f"{a.url}/token",
            data={
                "grant_type": "authorization_code",
                "code": redirect["code"][0],
                "redirect_uri": CALLBACK,
                "client_id": client_id,
                "code_verifier": verifier,
            },
        )
        assert tokens.status_code == 200, tokens.text
        access = tokens.json()["access_token"]
        assert _result(await _call(browser, b, access, "list_streams"))["total"] == 0
        # Revoked at A, refused at B on the next request.
        revoked = await browser.post(
            f"{a.url}/revoke", data={"token": access, "client_id": client_id}
        )
        assert revoked.status_code == 200
        refused = await _call(browser, b, access, "list_streams")
        # The code was spent at A: B refuses it too.
        replayed = await browser.post(
            f"{b.url}/token",
            data={
                "grant_type": "authorization_code",
                "code": redirect["code"][0],
                "redirect_uri": CALLBACK,
                "client_id": client_id,
                "code_verifier": verifier,
            },
        )
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_grant"
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]


async def test_a_key_revoked_through_one_replica_is_refused_by_the_other_on_the_next_request(
    cluster: Cluster,
) -> None:
    key = cluster.keys["doomed"]
    async with httpx.AsyncClient(timeout=30) as browser:
        assert (await _call(browser, cluster.b, key, "list_streams")).status_code == 200
        page = await _sign_in(browser, cluster.a)
        revoked = await browser.post(
            f"{cluster.a.url}/settings/integrations/keys/{cluster.key_ids['doomed']}/revoke",
            data={"csrf_token": _field(page, "csrf_token")},
        )
        assert revoked.status_code == 303, revoked.text
        refused = await _call(browser, cluster.b, key, "list_streams")
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]


async def test_the_per_key_rate_limit_is_one_budget_shared_by_the_replicas(
    cluster: Cluster,
) -> None:
    key = cluster.keys["burst"]
    async with httpx.AsyncClient(timeout=30) as http:
        assert (await _call(http, cluster.b, key, "list_streams")).status_code == 200
        for _ in range(BURST - 1):
            assert (await _call(http, cluster.a, key, "list_streams")).status_code == 200
        at_b = await _call(http, cluster.b, key, "list_streams")
        at_a = await _call(http, cluster.a, key, "list_streams")
        other_key = await _call(http, cluster.b, cluster.keys["main"], "list_streams")
    assert at_b.status_code == 429
    assert int(at_b.headers["retry-after"]) >= 1
    assert at_a.status_code == 429
    assert other_key.status_code == 200


async def test_an_attachment_url_signed_by_one_replica_downloads_from_the_other(
    cluster: Cluster,
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        signed = _result(
            await _call(
                http,
                cluster.a,
                cluster.keys["main"],
                "get_attachment_url",
                attachment_id=cluster.attachment_id,
            )
        )
        url = signed["url"]
        assert url.startswith(f"{cluster.public_url}/attachments/")
        # The load balancer sends the download to B.
        download = await http.get(cluster.b.url + url.removeprefix(cluster.public_url))
    assert download.status_code == 200
    assert download.content == cluster.attachment


async def test_a_cursor_from_one_replica_pages_at_the_other(cluster: Cluster) -> None:
    key = cluster.keys["main"]
    seen: list[str] = []
    cursor: str | None = None
    replicas = [cluster.a, cluster.b]
    async with httpx.AsyncClient(timeout=30) as http:
        for turn in range(10):
            arguments: dict[str, Any] = {"tags": ["paged"], "limit": 2, "include_content": False}
            if cursor is not None:
                arguments["cursor"] = cursor
            page = _result(await _call(http, replicas[turn % 2], key, "list_entries", **arguments))
            seen.extend(entry["entry_id"] for entry in page["entries"])
            cursor = page.get("next_cursor")
            if cursor is None:
                break
    assert len(seen) == 7
    assert len(set(seen)) == 7


async def _trash_expired_entries(cluster: Cluster) -> list[str]:
    """Trash EXPIRED entries (half with a picture) and move their deletion 40 days back."""
    from trace_core import EntryDraft
    from trace_http.bootstrap import open_runtime
    from trace_http.settings import load_settings
    from trace_sql import create_storage
    from trace_sql.tables import entries

    blob_keys: list[str] = []
    async with open_runtime(load_settings(env=cluster.b.env), run_migrations=False) as runtime:
        trace = runtime.trace
        me = trace.principal_for(await trace.get_account_by_email(EMAIL), actor="seed")
        for n in range(EXPIRED):
            entry = await trace.create_entry(me, EntryDraft(content=f"expired {n}"))
            if n % 2:
                picture = await trace.add_attachment(
                    me, entry.entry_id, png(2, 2, payload=b"%d" % n)
                )
                blob_keys.append(picture.attachment.blob_key)
            await trace.delete_entry(me, entry.entry_id)
    storage = create_storage(cluster.database_url)
    try:
        async with storage.connect(write=True) as conn:
            await conn.execute(
                sa.update(entries)
                .where(entries.c.deleted_at.is_not(None))
                .values(deleted_at=entries.c.deleted_at - sa.text("interval '40 days'"))
            )
    finally:
        await storage.close()
    return blob_keys


async def _count(database_url: str, statement: str) -> int:
    from trace_sql import create_storage

    storage = create_storage(database_url)
    try:
        async with storage.connect() as conn:
            return int((await conn.execute(sa.text(statement))).scalar_one())
    finally:
        await storage.close()


async def test_both_replicas_purge_the_trash_at_once_each_expired_entry_exactly_once(
    cluster: Cluster,
) -> None:
    blob_keys = await _trash_expired_entries(cluster)
    assert all((cluster.blobs / key).exists() for key in blob_keys)
    live_before = await _count(
        cluster.database_url, "SELECT count(*) FROM entries WHERE deleted_at IS NULL"
    )

    purged: list[int] = []

    async def purge(replica: Server) -> None:
        done = await anyio.run_process(
            [*trace_command(), "trash", "purge"], env=replica.env, check=False
        )
        assert done.returncode == 0, done.stderr.decode()
        purged.append(int(done.stdout.decode().strip()))

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            tg.start_soon(purge, cluster.a)
            tg.start_soon(purge, cluster.b)

    assert sum(purged) == EXPIRED, purged
    assert await _count(cluster.database_url, "SELECT count(*) FROM entries") == live_before
    assert (
        await _count(
            cluster.database_url,
            "SELECT count(*) FROM entry_versions v WHERE NOT EXISTS "
            "(SELECT 1 FROM entries e WHERE e.entry_id = v.entry_id)",
        )
        == 0
    )
    assert not any((cluster.blobs / key).exists() for key in blob_keys)
    kept = cluster.blobs / cluster.account_id / cluster.attachment_id
    assert kept.read_bytes() == cluster.attachment
