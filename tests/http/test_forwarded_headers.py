"""``X-Forwarded-For`` counts only from the proxies named in ``server.trusted_proxies``.

The per-address limits (client registration, sign-in, sign-up) count the client
address uvicorn puts in the ASGI scope. These tests drive the authorization
server through the very uvicorn configuration ``trace serve`` runs
(:func:`trace_http.web.app.server_config`, its middleware loaded), from a loopback
peer, and watch the registration limit.
"""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest
from http_support import SECRET, runtime_for_tests

from trace_core.service import Trace
from trace_core.testing.memory import FixedClock, InMemoryBlobStore, InMemoryStorage
from trace_core.testing.memory_credentials import InMemoryCredentialStore
from trace_http.settings import Settings, SettingsError, load_settings
from trace_http.web.app import create_app, server_config
from trace_mcp import AttachmentUrlSigner
from trace_oauth.config import OAuthConfig
from trace_oauth.server import AuthorizationService

pytestmark = pytest.mark.anyio

ISSUER = "http://127.0.0.1:8000"
REGISTRATIONS_ALLOWED = 2


def _settings(**server: Any) -> Settings:
    return msgspec.convert({"server": server}, Settings)


def _served_app(settings: Settings) -> Any:
    """The OAuth routes wrapped the way ``trace serve`` wraps the app."""
    storage, credentials = InMemoryStorage(), InMemoryCredentialStore()
    service = AuthorizationService(
        config=OAuthConfig(issuer=ISSUER, registration_limit=REGISTRATIONS_ALLOWED),
        credentials=credentials,
        storage=storage,
        clock=FixedClock(),
    )
    runtime = runtime_for_tests(
        Trace(storage=storage, blobs=InMemoryBlobStore()),
        settings,
        credentials=credentials,
        oauth=service,
        session_secret=SECRET,
        signer=AttachmentUrlSigner(SECRET, ISSUER),
    )
    config = server_config(create_app(runtime), runtime.options)
    config.load()
    return config.loaded_app


async def _register_from(app: Any, peer: str, forwarded_for: list[str]) -> list[int]:
    """Register one client per forwarded address, from ``peer``; return the statuses."""
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    statuses = []
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        for address in forwarded_for:
            response = await client.post(
                "/register",
                json={"redirect_uris": ["https://claude.ai/api/mcp/auth_callback"]},
                headers={"X-Forwarded-For": address, "X-Forwarded-Proto": "https"},
            )
            statuses.append(response.status_code)
    return statuses


ROTATED = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]


async def test_by_default_a_forged_forwarded_for_from_loopback_does_not_dodge_the_limit() -> None:
    app = _served_app(load_settings(None, env={}))

    statuses = await _register_from(app, "127.0.0.1", ROTATED)

    assert statuses == [201, 201, 429]


async def test_a_forwarded_for_from_a_trusted_proxy_is_the_client_address() -> None:
    app = _served_app(_settings(trusted_proxies=["127.0.0.1"]))

    statuses = await _register_from(app, "127.0.0.1", ROTATED)

    assert statuses == [201, 201, 201]


async def test_a_proxy_network_is_trusted_even_written_with_host_bits() -> None:
    app = _served_app(_settings(trusted_proxies=["10.1.2.3/8"]))

    assert await _register_from(app, "10.9.9.9", ROTATED) == [201, 201, 201]


async def test_a_peer_outside_the_trusted_proxies_cannot_set_its_address() -> None:
    app = _served_app(_settings(trusted_proxies=["10.0.0.0/8"]))

    statuses = await _register_from(app, "127.0.0.1", ROTATED)

    assert statuses == [201, 201, 429]


def test_trusted_proxies_come_from_the_environment_as_a_list() -> None:
    settings = load_settings(None, env={"TRACE_SERVER_TRUSTED_PROXIES": "10.0.0.5, fd00::/8"})
    assert settings.server.trusted_proxies == ["10.0.0.5", "fd00::/8"]


def test_a_trusted_proxy_that_is_no_address_is_refused_naming_the_setting() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(None, env={"TRACE_SERVER_TRUSTED_PROXIES": "proxy.internal"})
    assert caught.value.field == "server.trusted_proxies"
    assert "proxy.internal" in str(caught.value)
