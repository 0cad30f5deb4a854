"""Server errors leave one log line each, with the cause and no secret; outages two lines.

Any 5xx answer, from a Litestar route or the MCP endpoint, raised or returned,
is logged once (``trace_http.errors``). ``unavailable`` answers (503, the
database away) are logged where the outage starts and where it ends, not once
per request: on an in-memory storage switched off and on, and on PostgreSQL
behind a TCP gate that cuts the connections and refuses new ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from http_support import PUBLIC, SECRET, FakeAuthenticator, runtime_for_tests
from litestar import Litestar, Response, get
from sqlalchemy.engine import make_url

from trace_core.errors import UnavailableError
from trace_core.model import Principal, Scope
from trace_core.service import SystemClock, Trace
from trace_core.testing.memory import FixedClock, InMemoryBlobStore, InMemoryStorage
from trace_http.web.app import create_app
from trace_mcp import AttachmentUrlSigner

pytestmark = pytest.mark.anyio

TOKEN = "trace_Zr4Tq9sVb2WxLm7NcYd5Ke8Hf3Jg6Pa1Ru0Is"
COOKIE = "session=c2Vzc2lvbi1zZWNyZXQtdmFsdWU"
SIG = "q0Vh3kA9xYzSIGNATURE"
HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "Cookie": COOKIE,
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}
CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "list_streams", "arguments": {}},
}


class SwitchableStorage(InMemoryStorage):
    """In-memory storage raising ``UnavailableError`` while ``down``, like a stopped database."""

    down = False

    @contextlib.asynccontextmanager
    async def _open(self, write: bool) -> AsyncIterator[Any]:
        if self.down:
            raise UnavailableError("cannot reach the database")
        async with super()._open(write) as uow:
            yield uow


class StorageAuthenticator(FakeAuthenticator):
    """Looks the credential up in the storage first, as the real authenticator does."""

    def __init__(self, storage: InMemoryStorage) -> None:
        super().__init__()
        self.storage = storage

    async def authenticate(self, bearer: str, *, resource: str | None = None) -> Principal:
        async with self.storage.unit_of_work():
            pass
        return await super().authenticate(bearer, resource=resource)


@get("/boom", name="boom")
async def boom() -> None:
    raise RuntimeError("the disk is on fire\nsecond line")


@get("/gateway", name="gateway")
async def gateway() -> Response[Any]:
    return Response({"error": "upstream"}, status_code=502)


@pytest.fixture
def storage() -> SwitchableStorage:
    return SwitchableStorage()


@pytest.fixture
async def alice(storage: SwitchableStorage) -> Principal:
    account = await Trace(storage=storage, blobs=InMemoryBlobStore()).create_account("a@b.c")
    return Principal(account_id=account.account_id, scopes=frozenset({Scope.FULL}), actor="alice")


@pytest.fixture
def auth(storage: SwitchableStorage, alice: Principal) -> StorageAuthenticator:
    authenticator = StorageAuthenticator(storage)
    authenticator.tokens[TOKEN] = alice
    return authenticator


@pytest.fixture
def app(storage: SwitchableStorage, auth: StorageAuthenticator) -> Litestar:
    # Built in a fixture: Litestar configures logging when an app is made, and
    # pytest attaches its capture handler to the root logger afterwards.
    runtime = runtime_for_tests(
        Trace(storage=storage, blobs=InMemoryBlobStore(), clock=FixedClock()),
        authenticator=auth,
        signer=AttachmentUrlSigner(SECRET, PUBLIC),
    )
    return create_app(runtime, route_handlers=[boom, gateway])


@pytest.fixture
async def http(app: Litestar) -> AsyncIterator[httpx2.AsyncClient]:
    async with (
        app.lifespan(),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=PUBLIC) as client,
    ):
        yield client


def error_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "trace_http.errors"]


def assert_no_secret_logged(caplog: pytest.LogCaptureFixture) -> None:
    """No server-side log line holds the bearer token, the cookie or the URL signature."""
    for record in caplog.records:
        if record.name.startswith("httpx"):
            continue  # the test's own HTTP client
        text = record.getMessage()
        for secret in (TOKEN, COOKIE.split("=", 1)[1], SIG):
            assert secret not in text, record


async def test_an_exception_in_a_route_is_answered_500_and_logged_once_with_its_cause(
    http: httpx2.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await http.get(f"/boom?account=x&expires=1&sig={SIG}", headers=HEADERS)

    assert response.status_code == 500
    [line] = error_lines(caplog)
    assert line.levelno == logging.ERROR
    assert line.getMessage() == (
        "GET /boom answered 500: RuntimeError: the disk is on fire second line"
    )
    assert line.exc_info is None  # the traceback only at debug level
    assert_no_secret_logged(caplog)


async def test_at_debug_level_the_line_carries_the_traceback(
    http: httpx2.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="trace_http.errors")

    await http.get("/boom", headers=HEADERS)

    [line] = error_lines(caplog)
    assert line.exc_info is not None
    assert line.exc_info[0] is RuntimeError


async def test_an_exception_in_the_mcp_endpoint_is_answered_500_and_logged_once(
    http: httpx2.AsyncClient, auth: StorageAuthenticator, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(bearer: str, *, resource: str | None = None) -> Principal:
        raise KeyError(f"no such credential {bearer!r}"[:12])

    auth.authenticate = broken  # type: ignore[method-assign]

    response = await http.post("/mcp", json=CALL, headers=HEADERS)

    assert response.status_code == 500
    [line] = error_lines(caplog)
    assert line.getMessage().startswith("POST /mcp answered 500: KeyError: ")
    assert_no_secret_logged(caplog)


async def test_a_5xx_a_route_returns_without_raising_is_logged_once(
    http: httpx2.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await http.get("/gateway", headers=HEADERS)

    assert response.status_code == 502
    assert [r.getMessage() for r in error_lines(caplog)] == ["GET /gateway answered 502"]


async def test_client_errors_are_not_logged_as_server_errors(
    http: httpx2.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    for response in [
        await http.post("/mcp", content=b"\xff", headers=HEADERS),
        await http.post("/mcp", json=CALL, headers={**HEADERS, "Authorization": "Bearer x"}),
        await http.get("/nowhere"),
    ]:
        assert 400 <= response.status_code < 500

    assert error_lines(caplog) == []


async def test_an_outage_is_logged_where_it_starts_and_where_it_ends(
    http: httpx2.AsyncClient, storage: SwitchableStorage, caplog: pytest.LogCaptureFixture
) -> None:
    assert (await http.post("/mcp", json=CALL, headers=HEADERS)).status_code == 200
    storage.down = True

    statuses = [
        (await http.post("/mcp", json=CALL, headers=HEADERS)).status_code for _ in range(20)
    ]
    statuses.append((await http.get("/health")).status_code)
    # A route that needs no database answering meanwhile does not end the outage.
    assert (await http.get("/.well-known/oauth-protected-resource")).status_code == 200
    statuses += [(await http.post("/", json=CALL, headers=HEADERS)).status_code for _ in range(5)]

    assert statuses == [503] * 26
    [started] = error_lines(caplog)
    assert started.levelno == logging.WARNING
    assert started.getMessage().startswith(
        "POST /mcp answered 503: UnavailableError: cannot reach the database;"
    )

    storage.down = False
    assert (await http.post("/mcp", json=CALL, headers=HEADERS)).status_code == 200
    assert (await http.get("/health")).status_code == 200

    started_again, ended = error_lines(caplog)
    assert started_again is started
    assert ended.getMessage().startswith(
        "available again: POST /mcp answered 200 after 26 unavailable answers in "
    )

    storage.down = True
    assert (await http.get("/health")).status_code == 503
    assert len(error_lines(caplog)) == 3  # a new outage, logged again
    assert_no_secret_logged(caplog)


# --- PostgreSQL behind a gate ------------------------------------------------------------


class TcpGate:
    """A TCP proxy to the database that can cut every connection and refuse new ones."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


class PostgresWorld:
    def __init__(self, app: Litestar, gate: TcpGate, key: str) -> None:
        self.app, self.gate, self.key = app, gate, key


@pytest.fixture
async def postgres_world(postgres_url: str) -> AsyncIterator[PostgresWorld]:
    """The app on PostgreSQL reached through a gate, with the real authenticator and a key."""
    from trace_oauth.api_keys import ApiKeyService
    from trace_oauth.authenticator import BearerAuthenticator
    from trace_oauth.config import OAuthConfig
    from trace_oauth.tokens import SecretHasher
    from trace_sql import create_storage
    from trace_sql.credentials import SqlCredentialStore

    url = make_url(postgres_url)
    gate = TcpGate(url.host or "127.0.0.1", url.port or 5432)
    await gate.open()
    storage = create_storage(url.set(host="127.0.0.1", port=gate.port))
    try:
        trace = Trace(storage=storage, blobs=InMemoryBlobStore())
        credentials = SqlCredentialStore(storage)
        hasher = SecretHasher()
        alice = await trace.create_account("alice@example.com")
        key = await ApiKeyService(credentials, SystemClock(), hasher).create(
            alice.account_id, "test", Scope.FULL
        )
        app = create_app(
            runtime_for_tests(
                trace,
                credentials=credentials,
                authenticator=BearerAuthenticator(
                    storage=storage,
                    credentials=credentials,
                    config=OAuthConfig(issuer=PUBLIC),
                    clock=SystemClock(),
                    hasher=hasher,
                ),
            )
        )
        yield PostgresWorld(app, gate, key.plaintext)
    finally:
        await storage.close()
        await gate.close()


@pytest.mark.postgres
async def test_a_postgres_outage_is_logged_where_it_starts_and_where_it_ends(
    postgres_world: PostgresWorld, caplog: pytest.LogCaptureFixture
) -> None:
    app, gate = postgres_world.app, postgres_world.gate
    headers = {**HEADERS, "Authorization": f"Bearer {postgres_world.key}"}
    async with (
        app.lifespan(),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=PUBLIC) as http,
    ):
        assert (await http.post("/mcp", json=CALL, headers=headers)).status_code == 200

        await gate.close()
        statuses = [
            (await http.post("/mcp", json=CALL, headers=headers)).status_code for _ in range(10)
        ]
        statuses.append((await http.get("/health")).status_code)
        assert statuses == [503] * 11
        assert len(error_lines(caplog)) == 1

        await gate.open()
        assert (await http.post("/mcp", json=CALL, headers=headers)).status_code == 200
        assert (await http.post("/mcp", json=CALL, headers=headers)).status_code == 200

    started, ended = error_lines(caplog)
    assert started.getMessage().startswith("POST /mcp answered 503: UnavailableError: ")
    assert ended.getMessage().startswith(
        "available again: POST /mcp answered 200 after 11 unavailable answers"
    )
    for record in caplog.records:
        if not record.name.startswith("httpx"):
            assert postgres_world.key not in record.getMessage()
