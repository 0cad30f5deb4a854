"""``X-Forwarded-For`` counts only from the proxies named in ``server.trusted_proxies``.

The per-address limits (client registration, sign-in, sign-up) count the client
address uvicorn puts in the ASGI scope. These tests drive the authorization
server through the very uvicorn configuration ``trace serve`` runs
(:func:`trace_http.web.app.server_config`, its middleware loaded), from a loopback
peer, and watch the registration limit.
"""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import httpx
import msgspec
import pytest
from http_support import SECRET, runtime_for_tests
from litestar import Request, get

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


# --- sign-in limits, scheme and cookies behind a proxy --------------------------------

PUBLIC_HTTPS = "https://trace.example.com"


def _proxied_app(settings: Settings, *, issuer: str = ISSUER, login_limit: int = 10) -> Any:
    """The app as ``trace serve`` wraps it, with a route echoing what it sees of the request."""
    storage, credentials = InMemoryStorage(), InMemoryCredentialStore()
    service = AuthorizationService(
        config=OAuthConfig(issuer=issuer, login_attempt_limit=login_limit),
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
        signer=AttachmentUrlSigner(SECRET, issuer),
    )

    @get("/_seen", sync_to_thread=False)
    def seen(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return {
            "scheme": request.url.scheme,
            "client": request.client.host if request.client else None,
        }

    config = server_config(create_app(runtime, route_handlers=[seen]), runtime.options)
    config.load()
    return config.loaded_app


async def _sign_in_attempts(app: Any, forwarded_for: list[str]) -> list[int]:
    """Fail one sign-in per forwarded address, each with a new email; return the statuses."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    statuses = []
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as browser:
        for address in forwarded_for:
            headers = {"X-Forwarded-For": address}
            form = await browser.get("/signin", headers=headers)
            csrf = re.search(r'name="csrf_token" value="([^"]*)"', form.text)
            assert csrf, form.text
            response = await browser.post(
                "/signin",
                data={
                    "csrf_token": html.unescape(csrf.group(1)),
                    "email": f"nobody-{uuid.uuid4().hex}@example.com",
                    "password": "wrong",
                },
                headers=headers,
            )
            statuses.append(response.status_code)
    return statuses


# login_attempt_limit 1 per email allows 5 per address.
SIX_ADDRESSES = [f"198.51.100.{n}" for n in range(1, 7)]


async def test_sign_in_limits_count_the_forwarded_address_from_a_trusted_proxy() -> None:
    trusted = _proxied_app(_settings(trusted_proxies=["127.0.0.1"]), login_limit=1)
    assert await _sign_in_attempts(trusted, SIX_ADDRESSES) == [401] * 6
    assert await _sign_in_attempts(trusted, ["203.0.113.9"] * 6) == [401] * 5 + [429]


async def test_sign_in_limits_ignore_a_forwarded_address_from_an_untrusted_peer() -> None:
    untrusted = _proxied_app(load_settings(None, env={}), login_limit=1)
    assert await _sign_in_attempts(untrusted, SIX_ADDRESSES) == [401] * 5 + [429]


@pytest.mark.parametrize(
    ("trusted", "scheme", "client"),
    [(["127.0.0.1"], "https", "198.51.100.7"), ([], "http", "127.0.0.1")],
)
async def test_forwarded_proto_and_for_count_only_from_a_trusted_proxy(
    trusted: list[str], scheme: str, client: str
) -> None:
    app = _proxied_app(_settings(trusted_proxies=trusted))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as proxy:
        seen = await proxy.get(
            "/_seen", headers={"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}
        )
    assert seen.json() == {"scheme": scheme, "client": client}


async def test_behind_a_tls_proxy_cookies_are_secure_and_addresses_use_the_public_https_url() -> (
    None
):
    app = _proxied_app(
        _settings(public_url=PUBLIC_HTTPS, trusted_proxies=["127.0.0.1"]), issuer=PUBLIC_HTTPS
    )
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    headers = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}
    # The proxy speaks plain HTTP to Trace and passes the public Host on.
    async with httpx.AsyncClient(
        transport=transport, base_url="http://trace.example.com", headers=headers
    ) as proxy:
        page = await proxy.get("/signin")
        metadata = await proxy.get("/.well-known/oauth-authorization-server")
        resource = await proxy.get("/.well-known/oauth-protected-resource/mcp")
        challenge = await proxy.post("/mcp", json={})
    cookies = page.headers.get_list("set-cookie")
    assert cookies
    assert all("secure" in cookie.lower() for cookie in cookies)
    assert metadata.json()["issuer"] == PUBLIC_HTTPS
    assert metadata.json()["authorization_endpoint"].startswith(f"{PUBLIC_HTTPS}/")
    assert resource.json()["resource"] == f"{PUBLIC_HTTPS}/mcp"
    assert f'resource_metadata="{PUBLIC_HTTPS}/' in challenge.headers["www-authenticate"]
