"""Settings → Integrations: a signed-in person creates and revokes keys, disconnects apps."""

from __future__ import annotations

import re

import httpx
import pytest
from argon2 import PasswordHasher
from oauth_support import ISSUER, PASSWORD, AuthServer, Flow, hidden

from trace_core.errors import AuthenticationError
from trace_oauth.config import OAuthConfig


async def _sign_in(server: AuthServer, email: str = "alice@example.com") -> httpx.Response:
    form = await server.client.get("/signin")
    response = await server.client.post(
        "/signin",
        data={"csrf_token": hidden(form.text, "csrf_token"), "email": email, "password": PASSWORD},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/settings/integrations"
    page = await server.client.get("/settings/integrations")
    assert page.status_code == 200
    return page


@pytest.mark.anyio
async def test_the_page_needs_a_signed_in_person(server: AuthServer) -> None:
    response = await server.client.get("/settings/integrations")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"


@pytest.mark.anyio
async def test_a_wrong_password_does_not_sign_in(server: AuthServer) -> None:
    form = await server.client.get("/signin")
    response = await server.client.post(
        "/signin",
        data={
            "csrf_token": hidden(form.text, "csrf_token"),
            "email": "alice@example.com",
            "password": "wrong password",
        },
    )
    assert response.status_code == 401
    assert (await server.client.get("/settings/integrations")).status_code == 303


@pytest.mark.anyio
@pytest.mark.parametrize("oauth_config", [OAuthConfig(issuer=ISSUER, login_attempt_limit=3)])
async def test_the_settings_sign_in_shares_the_flows_limit_and_says_when_to_retry(
    server: AuthServer,
) -> None:
    client = await server.register()
    login = await server.client.get("/authorize", params=Flow(client["client_id"]).params())
    wrong = {"email": "alice@example.com", "password": "wrong password"}
    flow_form = {
        "csrf_token": hidden(login.text, "csrf_token"),
        "request": hidden(login.text, "request"),
    }
    statuses = [
        (await server.client.post("/authorize/login", data={**flow_form, **wrong})).status_code
        for _ in range(2)
    ]
    form = await server.client.get("/signin")
    settings_form = {"csrf_token": hidden(form.text, "csrf_token")}
    for _ in range(2):
        response = await server.client.post("/signin", data={**settings_form, **wrong})
        statuses.append(response.status_code)

    assert statuses == [401, 401, 401, 429]
    assert int(response.headers["retry-after"]) >= 1
    assert "Too many sign-in attempts" in response.text


@pytest.mark.anyio
async def test_a_key_created_on_the_page_is_shown_once_and_works(server: AuthServer) -> None:
    page = await _sign_in(server)
    assert "No API keys yet" in page.text
    created = await server.client.post(
        "/settings/integrations/keys",
        data={"csrf_token": hidden(page.text, "csrf_token"), "name": "Gemini", "scope": "full"},
    )
    assert created.status_code == 201
    secret = re.search(r'class="secret">(trace_[^<]+)<', created.text)
    assert secret
    principal = await server.auth.authenticate(secret.group(1))
    assert principal.actor == "Gemini"
    again = await server.client.get("/settings/integrations")
    assert secret.group(1) not in again.text
    assert "Gemini" in again.text
    assert secret.group(1)[:14] in again.text


@pytest.mark.anyio
async def test_revoking_a_key_on_the_page_stops_it(server: AuthServer) -> None:
    created = await server.keys.create(server.alice.account_id, "old script", "read")
    page = await _sign_in(server)
    action = f"/settings/integrations/keys/{created.key.key_id}/revoke"
    assert action in page.text
    response = await server.client.post(
        action, data={"csrf_token": hidden(page.text, "csrf_token")}
    )
    assert response.status_code == 303
    with pytest.raises(AuthenticationError):
        await server.auth.authenticate(created.plaintext)


@pytest.mark.anyio
async def test_one_person_cannot_revoke_anothers_key(server: AuthServer) -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    await server.trace.create_account("mallory@example.com", password_hash=cheap)
    created = await server.keys.create(server.alice.account_id, "alice key", "full")
    page = await _sign_in(server, "mallory@example.com")
    response = await server.client.post(
        f"/settings/integrations/keys/{created.key.key_id}/revoke",
        data={"csrf_token": hidden(page.text, "csrf_token")},
    )
    assert response.status_code == 404
    await server.auth.authenticate(created.plaintext)


@pytest.mark.anyio
async def test_a_connected_app_is_listed_and_can_be_disconnected(server: AuthServer) -> None:
    flow, tokens = await server.tokens()
    page = await server.client.get("/settings/integrations")
    assert "Claude" in page.text
    response = await server.client.post(
        "/settings/integrations/apps/disconnect",
        data={"csrf_token": hidden(page.text, "csrf_token"), "client_id": flow.client_id},
    )
    assert response.status_code == 303
    with pytest.raises(AuthenticationError):
        await server.auth.authenticate(tokens["access_token"])
    after = await server.client.get("/settings/integrations")
    assert "No apps are connected" in after.text


@pytest.mark.anyio
async def test_page_actions_need_the_csrf_token(server: AuthServer) -> None:
    await _sign_in(server)
    response = await server.client.post(
        "/settings/integrations/keys", data={"csrf_token": "x" * 43, "name": "k", "scope": "read"}
    )
    assert response.status_code == 403
    assert await server.keys.list_keys(server.alice.account_id) == []


@pytest.mark.anyio
async def test_signing_out_ends_the_session(server: AuthServer) -> None:
    page = await _sign_in(server)
    response = await server.client.post(
        "/signout", data={"csrf_token": hidden(page.text, "csrf_token")}
    )
    assert response.status_code == 303
    assert (await server.client.get("/settings/integrations")).status_code == 303
