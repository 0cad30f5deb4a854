"""Optional "Sign in with Google": any OpenID Connect provider, faked here over HTTP."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from oauth_support import ISSUER, AuthServer, Flow, hidden, query_of

from trace_oauth.oidc import OidcProvider

PROVIDER = "https://accounts.example.com"


class FakeProvider:
    """Discovery, JWKS and a token endpoint that answers with a signed ID token."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"}, auto_kid=False)
        self.nonce = ""
        self.claims: dict[str, Any] = {}
        self.token_requests: list[dict[str, list[str]]] = []
        self.sign_with: RSAKey | None = None

    def id_token(self) -> str:
        claims = {
            "iss": PROVIDER,
            "aud": "trace-client",
            "sub": "1234567890",
            "email": "Alice@Example.com",
            "email_verified": True,
            "nonce": self.nonce,
            "iat": int(time.time()),
            "exp": int(time.time()) + 600,
            **self.claims,
        }
        key = self.sign_with or self.key
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": PROVIDER,
                    "authorization_endpoint": f"{PROVIDER}/o/oauth2/auth",
                    "token_endpoint": f"{PROVIDER}/token",
                    "jwks_uri": f"{PROVIDER}/certs",
                },
            )
        if path == "/certs":
            return httpx.Response(200, json=KeySet([self.key]).as_dict(private=False))
        if path == "/token":
            form = parse_qs(request.content.decode())
            self.token_requests.append(form)
            if form.get("code") != ["good-code"] or not form.get("code_verifier"):
                return httpx.Response(400, json={"error": "invalid_grant"})
            return httpx.Response(200, json={"id_token": self.id_token(), "access_token": "x"})
        return httpx.Response(404)


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def oidc_provider(fake: FakeProvider) -> OidcProvider:
    return OidcProvider(
        issuer=PROVIDER,
        client_id="trace-client",
        client_secret="provider-secret",
        redirect_uri=f"{ISSUER}/authorize/oidc/callback",
        name="Google",
        transport=httpx.MockTransport(fake.handler),
    )


async def _to_provider(server: AuthServer, fake: FakeProvider) -> tuple[Flow, dict[str, str]]:
    client = await server.register()
    flow = Flow(client["client_id"])
    login = await server.client.get("/authorize", params=flow.params())
    link = re.search(r'href="(/authorize/oidc\?[^"]+)"', login.text)
    assert link, "no Sign in with Google button"
    assert "Sign in with Google" in login.text
    start = await server.client.get(link.group(1).replace("&amp;", "&"))
    assert start.status_code == 302
    location = start.headers["location"]
    assert location.startswith(f"{PROVIDER}/o/oauth2/auth?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert params["redirect_uri"] == f"{ISSUER}/authorize/oidc/callback"
    assert params["code_challenge_method"] == "S256"
    assert "openid" in params["scope"].split()
    fake.nonce = params["nonce"]
    return flow, params


@pytest.mark.anyio
async def test_signing_in_with_the_provider_leads_to_consent_for_the_matching_account(
    server: AuthServer, fake: FakeProvider
) -> None:
    flow, params = await _to_provider(server, fake)
    consent = await server.client.get(
        "/authorize/oidc/callback", params={"code": "good-code", "state": params["state"]}
    )
    assert consent.status_code == 200, consent.text
    assert "alice@example.com" in consent.text
    assert fake.token_requests[0]["client_secret"] == ["provider-secret"]
    decision = await server.client.post(
        "/authorize/consent",
        data={
            "csrf_token": hidden(consent.text, "csrf_token"),
            "request": hidden(consent.text, "request"),
            "scope": "full",
            "decision": "allow",
        },
    )
    answer = query_of(decision.headers["location"])
    tokens = (await server.exchange(flow, answer["code"])).json()
    principal = await server.auth.authenticate(tokens["access_token"])
    assert principal.account_id == server.alice.account_id


@pytest.mark.anyio
@pytest.mark.parametrize(
    "claims",
    [
        {"email_verified": False},
        {"nonce": "another-nonce"},
        {"aud": "someone-else"},
        {"iss": "https://evil.example.com"},
        {"exp": int(time.time()) - 3600},
        {"email": "nobody@example.com"},
    ],
    ids=[
        "unverified-email",
        "wrong-nonce",
        "wrong-audience",
        "wrong-issuer",
        "expired",
        "no-account",
    ],
)
async def test_a_doubtful_id_token_or_unknown_email_does_not_sign_anyone_in(
    server: AuthServer, fake: FakeProvider, claims: dict[str, Any]
) -> None:
    _, params = await _to_provider(server, fake)
    fake.claims = claims
    response = await server.client.get(
        "/authorize/oidc/callback", params={"code": "good-code", "state": params["state"]}
    )
    assert response.status_code in (400, 403)
    assert "trace_session" not in response.headers.get("set-cookie", "")


@pytest.mark.anyio
async def test_an_id_token_signed_by_another_key_is_refused(
    server: AuthServer, fake: FakeProvider
) -> None:
    _, params = await _to_provider(server, fake)
    fake.sign_with = RSAKey.generate_key(2048)
    response = await server.client.get(
        "/authorize/oidc/callback", params={"code": "good-code", "state": params["state"]}
    )
    assert response.status_code == 400


@pytest.mark.anyio
async def test_a_callback_with_the_wrong_state_or_no_cookie_is_refused(
    server: AuthServer, fake: FakeProvider
) -> None:
    _, params = await _to_provider(server, fake)
    wrong = await server.client.get(
        "/authorize/oidc/callback", params={"code": "good-code", "state": "forged"}
    )
    assert wrong.status_code == 400
    assert fake.token_requests == []
    server.client.cookies.clear()
    no_cookie = await server.client.get(
        "/authorize/oidc/callback", params={"code": "good-code", "state": params["state"]}
    )
    assert no_cookie.status_code == 400


@pytest.mark.anyio
async def test_a_refused_sign_in_at_the_provider_shows_an_error(
    server: AuthServer, fake: FakeProvider
) -> None:
    await _to_provider(server, fake)
    response = await server.client.get(
        "/authorize/oidc/callback", params={"error": "access_denied"}
    )
    assert response.status_code == 400


@pytest.mark.anyio
@pytest.mark.parametrize("oidc_provider", [None])
async def test_without_a_provider_there_is_no_button_and_no_route(server: AuthServer) -> None:
    client = await server.register()
    login = await server.client.get("/authorize", params=Flow(client["client_id"]).params())
    assert "/authorize/oidc" not in login.text
    assert (await server.client.get("/authorize/oidc")).status_code == 404
