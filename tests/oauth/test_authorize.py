"""The authorization endpoint: metadata, login and consent pages, every error path."""

from __future__ import annotations

import re

import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oauth2.rfc9207 import AuthorizationServerMetadata as IssMetadata
from oauth_support import (
    CLAUDE_CALLBACK,
    ISSUER,
    PASSWORD,
    AuthServer,
    Flow,
    hidden,
    query_of,
    sign_in,
)

from trace_oauth.config import OAuthConfig
from trace_oauth.server import AuthorizationService


@pytest.mark.anyio
async def test_metadata_lists_everything_mcp_clients_require(server: AuthServer) -> None:
    response = await server.client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    meta = response.json()
    https = AuthorizationService(
        config=OAuthConfig(issuer="https://trace.example"),
        credentials=server.credentials,
        storage=server.storage,
        clock=server.clock,
    )
    AuthorizationServerMetadata(https.metadata()).validate(metadata_classes=[IssMetadata])
    assert meta["issuer"] == ISSUER
    assert meta["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert meta["token_endpoint"] == f"{ISSUER}/token"
    assert meta["registration_endpoint"] == f"{ISSUER}/register"
    assert meta["revocation_endpoint"] == f"{ISSUER}/revoke"
    assert meta["response_types_supported"] == ["code"]
    assert meta["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["token_endpoint_auth_methods_supported"][0] == "none"
    assert meta["scopes_supported"] == ["read", "full"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["client_id_metadata_document_supported"] is True
    oidc = await server.client.get("/.well-known/openid-configuration")
    assert oidc.json() == meta


@pytest.mark.anyio
@pytest.mark.parametrize("oauth_config", [OAuthConfig(issuer="https://trace.example/")])
async def test_the_issuer_has_no_trailing_slash_anywhere(server: AuthServer) -> None:
    meta = (await server.client.get("/.well-known/oauth-authorization-server")).json()
    assert meta["issuer"] == "https://trace.example"
    assert all(not v.endswith("/") for v in meta.values() if isinstance(v, str))


@pytest.mark.anyio
async def test_the_login_page_names_the_client_and_cannot_be_framed(server: AuthServer) -> None:
    client = await server.register(client_name="Claude <b>")
    page = await server.client.get("/authorize", params=Flow(client["client_id"]).params())
    assert page.status_code == 200
    assert "Claude &lt;b&gt;" in page.text
    assert 'type="password"' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "trace_csrf=" in page.headers["set-cookie"]
    assert "httponly" in page.headers["set-cookie"].lower()


@pytest.mark.anyio
async def test_the_consent_page_shows_client_redirect_host_and_both_access_levels(
    server: AuthServer,
) -> None:
    client = await server.register()
    consent = await server.login(Flow(client["client_id"], scope="read full"))
    assert "Claude" in consent
    assert "claude.ai" in consent
    assert "Read Only" in consent
    assert "Full Access" in consent
    assert re.search(r'value="full" checked', consent)
    assert 'value="deny"' in consent


@pytest.mark.anyio
async def test_read_only_is_preselected_unless_full_access_was_asked_for(
    server: AuthServer,
) -> None:
    client = await server.register()
    consent = await server.login(Flow(client["client_id"], scope="claudeai"))
    assert re.search(r'value="read" checked', consent)


@pytest.mark.anyio
async def test_a_read_only_grant_yields_a_read_only_token(server: AuthServer) -> None:
    _flow, tokens = await server.tokens(grant="read")
    assert tokens["scope"] == "read"
    principal = await server.auth.authenticate(tokens["access_token"])
    assert principal.via == "oauth"
    assert principal.actor == "Claude"
    assert {s.value for s in principal.scopes} == {"read"}


@pytest.mark.anyio
async def test_unknown_client_shows_an_error_page_and_never_redirects(server: AuthServer) -> None:
    page = await server.client.get("/authorize", params=Flow("no-such-client").params())
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "cannot connect" in page.text


@pytest.mark.anyio
@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/cb",
        "https://claude.ai/api/mcp/auth_callback/extra",
        "https://claude.ai/api/mcp/auth_callback?x=1",
        "http://claude.ai/api/mcp/auth_callback",
    ],
)
async def test_an_unregistered_redirect_uri_shows_an_error_page_and_never_redirects(
    server: AuthServer, redirect_uri: str
) -> None:
    client = await server.register()
    flow = Flow(client["client_id"], redirect_uri=redirect_uri)
    page = await server.client.get("/authorize", params=flow.params())
    assert page.status_code == 400
    assert "location" not in page.headers


@pytest.mark.anyio
async def test_a_loopback_redirect_matches_on_any_port(server: AuthServer) -> None:
    client = await server.register(redirect_uris=["http://127.0.0.1:6276/oauth/callback"])
    flow = Flow(client["client_id"], redirect_uri="http://127.0.0.1:50123/oauth/callback")
    answer = await server.authorize(flow)
    assert answer["code"]
    other_path = Flow(client["client_id"], redirect_uri="http://127.0.0.1:50123/other")
    page = await server.client.get("/authorize", params=other_path.params())
    assert page.status_code == 400


def _error_redirect(response, flow: Flow) -> dict[str, str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(flow.redirect_uri)
    answer = query_of(location)
    assert answer["iss"] == ISSUER
    assert answer["state"] == flow.state
    return answer


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"resource": "https://other.example/mcp"}, "invalid_target"),
        ({"resource": f"{ISSUER}/elsewhere"}, "invalid_target"),
    ],
)
async def test_bad_authorization_requests_redirect_back_with_error_state_and_iss(
    server: AuthServer, change: dict[str, str | None], error: str
) -> None:
    client = await server.register()
    flow = Flow(client["client_id"])
    params = {**flow.params(), **change}
    params = {k: v for k, v in params.items() if v is not None}
    response = await server.client.get("/authorize", params=params)
    assert _error_redirect(response, flow)["error"] == error


@pytest.mark.anyio
async def test_denying_consent_redirects_with_access_denied(server: AuthServer) -> None:
    client = await server.register()
    flow = Flow(client["client_id"])
    consent = await server.login(flow)
    response = await server.client.post(
        "/authorize/consent",
        data={
            "csrf_token": hidden(consent, "csrf_token"),
            "request": hidden(consent, "request"),
            "scope": "full",
            "decision": "deny",
        },
    )
    assert _error_redirect(response, flow)["error"] == "access_denied"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("email", "password"),
    [("alice@example.com", "wrong password"), ("nobody@example.com", PASSWORD)],
)
async def test_a_failed_login_gives_the_same_generic_error(
    server: AuthServer, email: str, password: str
) -> None:
    client = await server.register()
    page = await server.client.get("/authorize", params=Flow(client["client_id"]).params())
    response = await server.client.post(
        "/authorize/login",
        data={
            "csrf_token": hidden(page.text, "csrf_token"),
            "request": hidden(page.text, "request"),
            "email": email,
            "password": password,
        },
    )
    assert response.status_code == 401
    assert "The email or password is incorrect." in response.text
    assert "trace_session" not in response.headers.get("set-cookie", "")


@pytest.mark.anyio
@pytest.mark.parametrize("oauth_config", [OAuthConfig(issuer=ISSUER, login_attempt_limit=3)])
async def test_login_attempts_are_rate_limited(server: AuthServer) -> None:
    client = await server.register()
    page = await server.client.get("/authorize", params=Flow(client["client_id"]).params())
    data = {
        "csrf_token": hidden(page.text, "csrf_token"),
        "request": hidden(page.text, "request"),
        "email": "alice@example.com",
        "password": "wrong password",
    }
    statuses = [
        (await server.client.post("/authorize/login", data=data)).status_code for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    data["password"] = PASSWORD
    blocked = await server.client.post("/authorize/login", data=data)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) >= 1


@pytest.mark.anyio
async def test_a_login_without_the_csrf_token_is_refused(server: AuthServer) -> None:
    client = await server.register()
    page = await server.client.get("/authorize", params=Flow(client["client_id"]).params())
    response = await server.client.post(
        "/authorize/login",
        data={
            "csrf_token": "forged-forged-forged-forged-forged-forged",
            "request": hidden(page.text, "request"),
            "email": "alice@example.com",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 403


@pytest.mark.anyio
async def test_a_consent_post_from_another_origin_is_refused(server: AuthServer) -> None:
    client = await server.register()
    flow = Flow(client["client_id"])
    consent = await server.login(flow)
    response = await server.client.post(
        "/authorize/consent",
        data={
            "csrf_token": hidden(consent, "csrf_token"),
            "request": hidden(consent, "request"),
            "scope": "full",
            "decision": "allow",
        },
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert "location" not in response.headers


@pytest.mark.anyio
async def test_consent_without_a_signed_in_session_asks_to_sign_in_again(
    server: AuthServer,
) -> None:
    client = await server.register()
    flow = Flow(client["client_id"])
    consent = await server.login(flow)
    server.client.cookies.delete("trace_session")
    response = await server.client.post(
        "/authorize/consent",
        data={
            "csrf_token": hidden(consent, "csrf_token"),
            "request": hidden(consent, "request"),
            "scope": "full",
            "decision": "allow",
        },
    )
    assert response.status_code == 200
    assert 'type="password"' in response.text


@pytest.mark.anyio
async def test_a_signed_in_person_goes_straight_to_consent(server: AuthServer) -> None:
    client = await server.register()
    await server.login(Flow(client["client_id"]))
    page = await server.client.get("/authorize", params=Flow(client["client_id"]).params())
    assert page.status_code == 200
    assert 'value="allow"' in page.text
    assert 'type="password"' not in page.text


@pytest.mark.anyio
@pytest.mark.parametrize(
    "oauth_config", [OAuthConfig(issuer=ISSUER, integrations_require_plan=True)]
)
async def test_an_account_without_the_required_plan_is_told_so_at_login(
    server: AuthServer,
) -> None:
    client = await server.register()
    page = await server.client.get("/authorize", params=Flow(client["client_id"]).params())
    response = await server.client.post(
        "/authorize/login",
        data={
            "csrf_token": hidden(page.text, "csrf_token"),
            "request": hidden(page.text, "request"),
            "email": "alice@example.com",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 403
    assert "plan" in response.text


@pytest.mark.anyio
@pytest.mark.parametrize(
    "oauth_config", [OAuthConfig(issuer=ISSUER, integrations_require_plan=True)]
)
async def test_an_account_without_the_plan_uses_its_own_pages_but_cannot_connect_an_app(
    server: AuthServer,
) -> None:
    await sign_in(server.client)  # /signin: the person's own pages need no plan
    assert (await server.client.get("/settings/integrations")).status_code == 200

    client = await server.register()
    page = await server.client.get("/authorize", params=Flow(client["client_id"]).params())

    assert page.status_code == 403
    assert "Integrations are not included in your plan" in page.text
    assert 'value="allow"' not in page.text


@pytest.mark.anyio
async def test_session_cookies_are_secure_on_https(
    server: AuthServer,
) -> None:
    # The test server runs on http; the https case is checked on the route factory.
    from litestar.testing import AsyncTestClient
    from oauth_support import oauth_app

    https = AuthorizationService(
        config=OAuthConfig(issuer="https://trace.example"),
        credentials=server.credentials,
        storage=server.storage,
        clock=server.clock,
    )
    app = oauth_app(https, session_secret=b"k" * 32)
    client = await server.register()
    flow = Flow(client["client_id"], resource="https://trace.example/mcp")
    async with AsyncTestClient(app, base_url="https://trace.example") as browser:
        page = await browser.get("/authorize", params=flow.params())
    assert page.status_code == 200
    cookie = page.headers["set-cookie"].lower()
    assert "secure" in cookie
    assert "samesite=lax" in cookie
    assert CLAUDE_CALLBACK


@pytest.mark.anyio
@pytest.mark.parametrize("oauth_config", [OAuthConfig(issuer=ISSUER, login_attempt_limit=2)])
async def test_one_address_trying_many_accounts_is_limited_too(server: AuthServer) -> None:
    client = await server.register()
    page = await server.client.get("/authorize", params=Flow(client["client_id"]).params())
    statuses = []
    for i in range(11):
        response = await server.client.post(
            "/authorize/login",
            data={
                "csrf_token": hidden(page.text, "csrf_token"),
                "request": hidden(page.text, "request"),
                "email": f"victim{i}@example.com",
                "password": "guess",
            },
        )
        statuses.append(response.status_code)
    assert statuses == [401] * 10 + [429]


# Characters an OAuth error description may not hold (RFC 6749 §4.1.2.1), and a size.
HOSTILE = ['a"b', "a\\b", "caf\u00e9", "a\x01b", "a\r\nSet-Cookie: x=1", "x" * 5000]


def _allowed_in_an_error_description(text: str) -> bool:
    return all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in text)


@pytest.mark.anyio
@pytest.mark.parametrize("suffix", HOSTILE)
async def test_an_unregistered_redirect_uri_with_any_characters_shows_an_error_page_naming_it(
    server: AuthServer, suffix: str
) -> None:
    client = await server.register()
    flow = Flow(client["client_id"], redirect_uri=f"https://evil.example/{suffix}")
    page = await server.client.get("/authorize", params=flow.params())
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "is not registered for this client" in page.text
    assert "https://evil.example/" in page.text
    assert suffix not in page.text
    assert len(page.text) < 10_000


@pytest.mark.anyio
@pytest.mark.parametrize("response_type", HOSTILE)
async def test_an_unsupported_response_type_with_any_characters_redirects_back_safely(
    server: AuthServer, response_type: str
) -> None:
    client = await server.register()
    flow = Flow(client["client_id"], extra={"response_type": response_type})
    answer = _error_redirect(await server.client.get("/authorize", params=flow.params()), flow)
    assert answer["error"] == "unsupported_response_type"
    assert _allowed_in_an_error_description(answer["error_description"])
    assert len(answer["error_description"]) < 200


@pytest.mark.anyio
async def test_an_unsupported_response_type_for_an_unregistered_redirect_uri_never_redirects(
    server: AuthServer,
) -> None:
    client = await server.register()
    flow = Flow(
        client["client_id"],
        redirect_uri="https://evil.example/cb",
        extra={"response_type": 'to"ken'},
    )
    page = await server.client.get("/authorize", params=flow.params())
    assert page.status_code == 400
    assert "location" not in page.headers


@pytest.mark.anyio
@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(
    "parameter",
    [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "resource",
    ],
)
async def test_no_authorization_parameter_value_makes_a_server_error(
    server: AuthServer, parameter: str, value: str
) -> None:
    client = await server.register()
    flow = Flow(client["client_id"], extra={parameter: value})
    response = await server.client.get("/authorize", params=flow.params())
    assert response.status_code in (200, 302, 400), response.text
    location = response.headers.get("location")
    if location is not None:
        assert location.startswith(CLAUDE_CALLBACK)
        answer = query_of(location)
        assert _allowed_in_an_error_description(answer.get("error_description", ""))
