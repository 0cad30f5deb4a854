"""A real Trace server on a port and Debian's chromium driven by Playwright.

Skipped when chromium is not installed, unless ``TRACE_REQUIRE_BROWSER=1``
(CI sets it after installing chromium): then a missing browser fails.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from argon2 import PasswordHasher
from browser_support import EMAIL, PASSWORD, LiveServer

from trace_core.service import Trace
from trace_core.testing.memory import InMemoryBlobStore, InMemoryStorage
from trace_core.testing.memory_credentials import InMemoryCredentialStore
from trace_core.testing.memory_search import InMemorySearchIndex
from trace_http.bootstrap import runtime_for
from trace_http.settings import McpSettings, ServerSettings, Settings
from trace_http.web.app import create_app
from trace_oauth.config import OAuthConfig
from trace_oauth.server import AuthorizationService
from trace_oauth.tokens import SecretHasher


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("TRACE_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium is not installed; set TRACE_REQUIRE_BROWSER=1 to require it")
    return path


@pytest.fixture
def live_server() -> Iterator[LiveServer]:
    """Trace on in-memory adapters, served by uvicorn in a thread of its own."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def main() -> None:
        storage, credentials = InMemoryStorage(), InMemoryCredentialStore()
        trace = Trace(storage=storage, blobs=InMemoryBlobStore(), search=InMemorySearchIndex())
        cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
        await trace.create_account(EMAIL, name="Ada", password_hash=cheap)
        config = OAuthConfig(issuer=url)
        hasher = SecretHasher(config.hash_key)
        oauth = AuthorizationService(
            config=config,
            credentials=credentials,
            storage=storage,
            clock=trace.clock,
            hasher=hasher,
        )
        settings = Settings(
            server=ServerSettings(public_url=url),
            mcp=McpSettings(attachment_url_secret="a" * 32),
        )
        runtime = runtime_for(
            settings,
            trace=trace,
            credentials=credentials,
            hasher=hasher,
            oauth=oauth,
            session_secret=b"s" * 32,
            background=(),
        )
        config_ = uvicorn.Config(
            create_app(runtime), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        server = uvicorn.Server(config_)
        holder["server"], holder["trace"] = server, trace
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn has no event
            await asyncio.sleep(0.02)
        ready.set()
        await serving

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    assert ready.wait(30), "the server did not start"
    yield LiveServer(url=url, trace=holder["trace"])  # type: ignore[arg-type]
    holder["server"].should_exit = True  # type: ignore[attr-defined]
    thread.join(10)
