"""Secrets never reach the server's log, even at ``log.level = debug``.

The access log at debug level writes every request line with its query
string; a signed attachment URL is a bearer link for an hour. ``trace serve``'s
uvicorn configuration (:func:`trace_http.web.app.server_config`) installs the
secret filter on every handler: here a real uvicorn serves the app on a socket
and its access line for a signed download is captured.
"""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2
import pytest
import uvicorn
from http_support import PUBLIC
from litestar import Litestar

from trace_core.model import EntryDraft, Principal
from trace_core.service import Trace
from trace_core.testing.images import png_bytes
from trace_http.runtime import Options
from trace_http.web.app import server_config
from trace_http.web.logs import RedactSecrets, redact
from trace_mcp import AttachmentUrlSigner

pytestmark = pytest.mark.anyio

UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "mcp.server.streamable_http")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo what configuring uvicorn and the secret filter did to the process's logging."""
    saved = {
        name: (list(lg.handlers), lg.level, lg.propagate, lg.disabled)
        for name in UVICORN_LOGGERS
        for lg in [logging.getLogger(name)]
    }
    yield
    for name, (handlers, level, propagate, disabled) in saved.items():
        lg = logging.getLogger(name)
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate, lg.disabled = propagate, disabled
    every = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for lg in every:
        for handler in getattr(lg, "handlers", []):
            for f in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
                handler.removeFilter(f)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Server(uvicorn.Server):
    """uvicorn's server, telling when it listens (no polling)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = anyio.Event()

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        self.ready.set()


async def test_the_debug_access_log_shows_signed_download_links_without_their_signature(
    app: Litestar,
    trace: Trace,
    keys: dict[str, Principal],
    restore_logging: None,
) -> None:
    port = _free_port()
    alice = keys["alice-full"]
    entry = await trace.create_entry(alice, EntryDraft(content="photo"))
    attachment = (await trace.add_attachment(alice, entry.entry_id, png_bytes())).attachment
    signer: AttachmentUrlSigner = app.state.mcp.signer
    link = urlsplit(signer.sign(alice.account_id, attachment.attachment_id).url)
    signature = dict(p.split("=", 1) for p in link.query.split("&"))["sig"]

    options = Options(public_url=PUBLIC, port=port, log_level="debug")
    server = _Server(server_config(app, options))
    access_log = io.StringIO()
    for handler in logging.getLogger("uvicorn.access").handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(access_log)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(server.serve)
        with anyio.fail_after(20):
            await server.ready.wait()
        async with httpx2.AsyncClient(headers={"Host": "testserver"}) as client:
            response = await client.get(f"http://127.0.0.1:{port}{link.path}?{link.query}")
        server.should_exit = True

    assert response.status_code == 200
    lines = [line for line in access_log.getvalue().splitlines() if link.path in line]
    assert len(lines) == 1, access_log.getvalue()
    assert signature not in lines[0]
    assert "sig=[redacted]" in lines[0]
    assert f"account={alice.account_id}" in lines[0]  # the rest stays, for debugging
    assert " 200" in lines[0]


async def test_app_log_lines_lose_credentials_once_the_server_configured_logging(
    app: Litestar, restore_logging: None, caplog: pytest.LogCaptureFixture
) -> None:
    server_config(app, Options(public_url=PUBLIC))

    logging.getLogger("trace_http.errors").error(
        "GET %s answered 500: %s", "/x?account=a&sig=s3cr3tsignature", ValueError("bad")
    )
    try:
        raise RuntimeError("Authorization: Bearer tat_0123456789abcdefghijABCDEFGHIJ")
    except RuntimeError:
        logging.getLogger("trace_mcp").exception("tool failed")

    first, second = (r for r in caplog.records if r.name in ("trace_http.errors", "trace_mcp"))
    assert first.getMessage() == "GET /x?account=a&sig=[redacted] answered 500: bad"
    assert second.exc_text is not None
    assert "0123456789abcdefghij" not in second.exc_text
    assert "Bearer [redacted]" in second.exc_text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '127.0.0.1:5 - "GET /attachments/1?account=a&expires=9&sig=Zm9v_-x HTTP/1.1" 200',
            '127.0.0.1:5 - "GET /attachments/1?account=a&expires=9&sig=[redacted] HTTP/1.1" 200',
        ),
        (
            "GET /authorize/oidc/callback?state=s&code=4/0AbCd&scope=email",
            "GET /authorize/oidc/callback?state=s&code=[redacted]&scope=email",
        ),
        ("POST /token?refresh_token=trt_x&x=1", "POST /token?refresh_token=[redacted]&x=1"),
        ("/signin?password=hunter2", "/signin?password=[redacted]"),
        (
            "authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc",
            "authorization: Bearer [redacted]",
        ),
        (
            "key trace_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_ab revoked",
            "key trace_[redacted] revoked",
        ),
        ("client tcs_AbCdEfGhIjKlMnOpQrSt9", "client tcs_[redacted]"),
        # Nothing secret: unchanged.
        ("GET /mcp?stream=work&code_page=1", "GET /mcp?stream=work&code_page=1"),
        (
            "bearer links last an hour; trace_http started",
            "bearer links last an hour; trace_http started",
        ),
    ],
)
def test_redact_replaces_credential_values_only(line: str, expected: str) -> None:
    assert redact(line) == expected
