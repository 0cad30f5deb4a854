"""Web sessions and CSRF on the server's pages: bound to the session, ended server-side.

The attack the red-team run found: a browser holding a planted ``trace_csrf``
cookie posted the matching value as the token, from ``Origin: null``, and an
API key was created in the signed-in person's account. Tokens are now an HMAC
of the session id (or, before sign-in, of the pre-session cookie) under the
server's secret, ``null`` and foreign origins are refused, and a session lives
in the credential store, so signing out ends it wherever the cookie went.
"""

from __future__ import annotations

import time

import httpx
import pytest
from argon2 import PasswordHasher
from oauth_support import PASSWORD, AuthServer, hidden, sign_in

from trace_http.web.oauth._pages import CSRF_COOKIE, SESSION_COOKIE
from trace_oauth.tokens import SecretHasher

pytestmark = pytest.mark.anyio

HOST = "testserver.local"


def _plant(browser: httpx.AsyncClient, name: str, value: str) -> None:
    """Put a cookie in the browser, as an attacker on a sibling host could."""
    browser.cookies.set(name, value, domain=HOST, path="/")


async def _create_key(
    browser: httpx.AsyncClient, token: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await browser.post(
        "/settings/integrations/keys",
        data={"csrf_token": token, "name": "planted", "scope": "full"},
        headers=headers or {},
    )


async def _mallory(server: AuthServer) -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    await server.trace.create_account("mallory@example.com", password_hash=cheap)


# --- CSRF -----------------------------------------------------------------------------


async def test_a_planted_csrf_cookie_with_its_value_as_token_from_origin_null_creates_no_key(
    server: AuthServer,
) -> None:
    await sign_in(server.client)
    planted = "a" * 43
    _plant(server.client, CSRF_COOKIE, planted)

    response = await _create_key(server.client, planted, {"Origin": "null"})

    assert response.status_code == 403
    assert await server.keys.list_keys(server.alice.account_id) == []


async def test_a_planted_csrf_cookie_with_its_value_as_token_is_refused_from_our_origin_too(
    server: AuthServer,
) -> None:
    await sign_in(server.client)
    planted = "b" * 43
    _plant(server.client, CSRF_COOKIE, planted)

    response = await _create_key(server.client, planted, {"Origin": server.config.issuer})

    assert response.status_code == 403
    assert await server.keys.list_keys(server.alice.account_id) == []


async def test_a_csrf_token_from_another_session_is_refused_even_with_its_cookie_planted(
    server: AuthServer,
) -> None:
    await _mallory(server)
    await sign_in(server.client)
    async with server.browser() as attacker:
        attackers_page = await sign_in(attacker, "mallory@example.com")
        attackers_token = hidden(attackers_page, "csrf_token")
        for name, value in attacker.cookies.items():
            if name == CSRF_COOKIE:
                _plant(server.client, name, value)

    response = await _create_key(server.client, attackers_token)

    assert response.status_code == 403
    assert await server.keys.list_keys(server.alice.account_id) == []


async def test_a_valid_pre_sign_in_pair_planted_in_a_signed_in_browser_creates_no_key(
    server: AuthServer,
) -> None:
    await sign_in(server.client)
    async with server.browser() as attacker:
        form = await attacker.get("/signin")
        token, nonce = hidden(form.text, "csrf_token"), attacker.cookies[CSRF_COOKIE]
    _plant(server.client, CSRF_COOKIE, nonce)

    response = await _create_key(server.client, token)

    assert response.status_code == 403
    assert await server.keys.list_keys(server.alice.account_id) == []


async def test_the_pages_own_token_still_works(server: AuthServer) -> None:
    page = await sign_in(server.client)
    response = await _create_key(
        server.client, hidden(page, "csrf_token"), {"Origin": server.config.issuer}
    )
    assert response.status_code == 201


@pytest.mark.parametrize("origin", ["null", "https://evil.example", "http://testserver.local.evil"])
async def test_a_sign_in_post_from_another_or_a_null_origin_is_refused(
    server: AuthServer, origin: str
) -> None:
    form = await server.client.get("/signin")
    response = await server.client.post(
        "/signin",
        data={
            "csrf_token": hidden(form.text, "csrf_token"),
            "email": "alice@example.com",
            "password": PASSWORD,
        },
        headers={"Origin": origin},
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.cookies


async def test_a_page_action_with_a_null_origin_is_refused_even_with_the_right_token(
    server: AuthServer,
) -> None:
    page = await sign_in(server.client)
    response = await _create_key(server.client, hidden(page, "csrf_token"), {"Origin": "null"})
    assert response.status_code == 403
    assert await server.keys.list_keys(server.alice.account_id) == []


async def test_without_an_origin_a_referer_from_elsewhere_is_refused(server: AuthServer) -> None:
    page = await sign_in(server.client)
    token = hidden(page, "csrf_token")

    refused = await _create_key(server.client, token, {"Referer": "https://evil.example/x"})
    ours = await _create_key(
        server.client, token, {"Referer": f"{server.config.issuer}/settings/integrations"}
    )

    assert refused.status_code == 403
    assert ours.status_code == 201


async def test_pages_ask_browsers_to_send_their_origin_on_our_own_forms(
    server: AuthServer,
) -> None:
    # With "no-referrer", browsers send "Origin: null" on a page's own form posts.
    page = await server.client.get("/signin")
    assert page.headers["referrer-policy"] == "same-origin"


# --- sessions --------------------------------------------------------------------------


async def test_after_signing_out_the_old_session_cookie_no_longer_signs_in(
    server: AuthServer,
) -> None:
    page = await sign_in(server.client)
    stolen = server.client.cookies[SESSION_COOKIE]

    out = await server.client.post("/signout", data={"csrf_token": hidden(page, "csrf_token")})
    assert out.status_code == 303

    async with server.browser() as replay:
        _plant(replay, SESSION_COOKIE, stolen)
        response = await replay.get("/settings/integrations")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"


async def test_a_session_ends_when_it_expires_on_the_servers_clock(server: AuthServer) -> None:
    await sign_in(server.client)
    server.clock.advance(days=6, hours=23)
    assert (await server.client.get("/settings/integrations")).status_code == 200
    # That use moved the end a week out: idle for a week and a minute, it has ended.
    server.clock.advance(days=7, minutes=1)
    assert (await server.client.get("/settings/integrations")).status_code == 303


async def test_the_session_cookie_lasts_as_long_as_a_sign_in_can(server: AuthServer) -> None:
    await sign_in(server.client)
    [cookie] = [c for c in server.client.cookies.jar if c.name == SESSION_COOKIE]
    assert cookie.expires is not None
    # Max-Age is the 30-day cap; the server ends an idle sign-in sooner.
    assert 29 * 86400 < cookie.expires - time.time() <= 30 * 86400


async def test_signing_in_again_starts_a_new_session_and_ends_the_old_one(
    server: AuthServer,
) -> None:
    await sign_in(server.client)
    first = server.client.cookies[SESSION_COOKIE]

    await sign_in(server.client)

    assert server.client.cookies[SESSION_COOKIE] != first
    async with server.browser() as replay:
        _plant(replay, SESSION_COOKIE, first)
        assert (await replay.get("/settings/integrations")).status_code == 303


async def test_the_store_keeps_only_a_keyed_hash_of_the_session_id(server: AuthServer) -> None:
    await sign_in(server.client)
    session_id = server.client.cookies[SESSION_COOKIE].rsplit(".", 1)[0]

    assert await server.credentials.get_session(session_id) is None
    stored = await server.credentials.get_session(
        SecretHasher(server.config.hash_key).hash(session_id)
    )
    assert stored is not None
    assert stored.account_id == server.alice.account_id


async def test_a_password_change_ends_every_session_of_the_account(server: AuthServer) -> None:
    from trace_oauth.sessions import set_password

    await sign_in(server.client)
    async with server.browser() as phone:
        await sign_in(phone)

        await set_password(
            server.trace, server.credentials, server.alice.account_id, "$argon2id$new"
        )

        assert (await phone.get("/settings/integrations")).status_code == 303
    assert (await server.client.get("/settings/integrations")).status_code == 303
