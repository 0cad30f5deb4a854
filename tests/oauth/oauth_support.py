"""Helpers for the authorization-server tests: a client-side walk through the OAuth flow."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from litestar import Litestar

from trace_core.credentials import CredentialStore
from trace_core.model import Account
from trace_core.ports import Storage
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock, InMemoryBlobStore
from trace_http.bootstrap import runtime_for
from trace_http.runtime import SignUp
from trace_http.settings import McpSettings, ServerSettings, Settings
from trace_http.web.app import create_app
from trace_oauth.api_keys import ApiKeyService
from trace_oauth.authenticator import BearerAuthenticator
from trace_oauth.config import OAuthConfig
from trace_oauth.oidc import OidcProvider
from trace_oauth.server import AuthorizationService

SESSION_SECRET = b"s" * 32


def oauth_app(
    service: AuthorizationService,
    *,
    trace: Trace | None = None,
    api_keys: ApiKeyService | None = None,
    authenticator: BearerAuthenticator | None = None,
    signup: SignUp | None = None,
    oidc: OidcProvider | None = None,
    session_secret: bytes = SESSION_SECRET,
) -> Litestar:
    """The app ``trace serve`` serves, wired by the composition root around ``service``.

    The public URL is the service's issuer; the storage, credentials, hasher and
    clock are the service's; nothing is written to disk.
    """
    settings = Settings(
        server=ServerSettings(public_url=service.config.issuer),
        mcp=McpSettings(attachment_url_secret="a" * 32),
    )
    if trace is None:
        trace = Trace(storage=service.storage, blobs=InMemoryBlobStore(), clock=service.clock)
    runtime = runtime_for(
        settings,
        trace=trace,
        credentials=service.credentials,
        hasher=service.hasher,
        oauth=service,
        api_keys=api_keys,
        authenticator=authenticator,
        signup=signup,
        oidc=oidc,
        session_secret=session_secret,
        background=(),
    )
    return create_app(runtime)


ISSUER = "http://testserver.local"
PASSWORD = "correct horse battery staple"
CLAUDE_CALLBACK = "https://claude.ai/api/mcp/auth_callback"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


@dataclass
class Flow:
    """The parameters of one authorization request and what came back."""

    client_id: str
    redirect_uri: str = CLAUDE_CALLBACK
    scope: str | None = "read full"
    resource: str | None = f"{ISSUER}/mcp"
    state: str = field(default_factory=lambda: secrets.token_urlsafe(8))
    verifier: str = ""
    challenge: str = ""
    client_secret: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.verifier:
            self.verifier, self.challenge = pkce_pair()

    def params(self) -> dict[str, str]:
        out = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "state": self.state,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
        }
        if self.scope is not None:
            out["scope"] = self.scope
        if self.resource is not None:
            out["resource"] = self.resource
        out.update(self.extra)
        return {k: v for k, v in out.items() if v is not None}


def largest_accepted_metadata() -> dict[str, Any]:
    """Registration metadata with every stored field at its limit (and an unknown one)."""
    uri = "https://app.example.com/" + "u" * (2048 - len("https://app.example.com/"))
    return {
        "redirect_uris": [f"{uri[:-2]}{i:02d}" for i in range(10)],
        "client_name": "n" * 200,
        "client_uri": uri,
        "logo_uri": uri,
        "tos_uri": uri,
        "policy_uri": uri,
        "software_id": "s" * 200,
        "software_version": "v" * 200,
        "contacts": ["c" * 320] * 5,
        "scope": ("read " * 200).strip(),
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "application_type": "web",
        "unknown_field": "x" * 30_000,
    }


def hidden(html_text: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html_text)
    assert match, f"no hidden field {name} in page"
    return html.unescape(match.group(1))


async def sign_in(browser: httpx.AsyncClient, email: str = "alice@example.com") -> str:
    """Sign in on /signin (Settings); return the Integrations page."""
    form = await browser.get("/signin")
    response = await browser.post(
        "/signin",
        data={"csrf_token": hidden(form.text, "csrf_token"), "email": email, "password": PASSWORD},
    )
    assert response.status_code == 303, response.text
    page = await browser.get("/settings/integrations")
    assert page.status_code == 200
    return page.text


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class AuthServer:
    client: httpx.AsyncClient
    service: AuthorizationService
    credentials: CredentialStore
    storage: Storage
    trace: Trace
    clock: FixedClock
    auth: BearerAuthenticator
    keys: ApiKeyService
    alice: Account
    config: OAuthConfig
    app: Any = None
    """The ASGI app, for a second browser (:meth:`browser`)."""

    def browser(self) -> httpx.AsyncClient:
        """Return another browser on the same server: its own cookies (close it after use)."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=ISSUER)

    async def register(self, **metadata: Any) -> dict[str, Any]:
        body = {"redirect_uris": [CLAUDE_CALLBACK], "client_name": "Claude", **metadata}
        response = await self.client.post("/register", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def login(self, flow: Flow, *, email: str = "alice@example.com") -> str:
        """Open /authorize, sign in; return the consent page HTML."""
        page = await self.client.get("/authorize", params=flow.params())
        assert page.status_code == 200, page.text
        response = await self.client.post(
            "/authorize/login",
            data={
                "csrf_token": hidden(page.text, "csrf_token"),
                "request": hidden(page.text, "request"),
                "email": email,
                "password": PASSWORD,
            },
        )
        assert response.status_code == 200, response.text
        return response.text

    async def authorize(self, flow: Flow, *, grant: str = "full") -> dict[str, str]:
        """Run /authorize through login and consent; return the redirect's query."""
        consent = await self.login(flow)
        response = await self.client.post(
            "/authorize/consent",
            data={
                "csrf_token": hidden(consent, "csrf_token"),
                "request": hidden(consent, "request"),
                "scope": grant,
                "decision": "allow",
            },
        )
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.split("?")[0] == flow.redirect_uri.split("?")[0]
        return query_of(location)

    async def exchange(self, flow: Flow, code: str, **overrides: str) -> Any:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": flow.redirect_uri,
            "client_id": flow.client_id,
            "code_verifier": flow.verifier,
        }
        if flow.client_secret:
            data["client_secret"] = flow.client_secret
        if flow.resource:
            data["resource"] = flow.resource
        data.update(overrides)
        return await self.client.post("/token", data={k: v for k, v in data.items() if v})

    async def tokens(self, *, grant: str = "full", **register: Any) -> tuple[Flow, dict[str, Any]]:
        client = await self.register(**register)
        flow = Flow(client_id=client["client_id"], client_secret=client.get("client_secret"))
        answer = await self.authorize(flow, grant=grant)
        response = await self.exchange(flow, answer["code"])
        assert response.status_code == 200, response.text
        return flow, dict(response.json())

    async def refresh(self, flow: Flow, refresh_token: str, **extra: str) -> Any:
        data = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": flow.client_id,
            **extra,
        }
        if flow.client_secret:
            data["client_secret"] = flow.client_secret
        return await self.client.post("/token", data=data)
