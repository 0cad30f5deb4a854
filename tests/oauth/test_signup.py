"""The optional open sign-up page (``auth.open_signup``, off by default)."""

from __future__ import annotations

import re

import pytest
from oauth_support import AuthServer, Flow, hidden, query_of


@pytest.mark.anyio
async def test_sign_up_is_closed_by_default(server: AuthServer) -> None:
    assert (await server.client.get("/signup")).status_code == 404
    client = await server.register()
    page = await server.client.get("/authorize", params=Flow(client["client_id"]).params())
    assert "/signup" not in page.text


@pytest.mark.anyio
@pytest.mark.parametrize("signup_enabled", [True])
async def test_a_new_person_signs_up_from_the_login_page_and_goes_on_to_consent(
    server: AuthServer,
) -> None:
    client = await server.register()
    flow = Flow(client["client_id"])
    login = await server.client.get("/authorize", params=flow.params())
    link = re.search(r'href="(/signup\?[^"]+)"', login.text)
    assert link
    form = await server.client.get(link.group(1).replace("&amp;", "&"))
    assert form.status_code == 200
    consent = await server.client.post(
        "/signup",
        data={
            "csrf_token": hidden(form.text, "csrf_token"),
            "request": hidden(form.text, "request"),
            "email": "dora@example.com",
            "name": "Dora",
            "password": "a long enough password",
        },
    )
    assert consent.status_code == 200, consent.text
    assert 'value="allow"' in consent.text
    decision = await server.client.post(
        "/authorize/consent",
        data={
            "csrf_token": hidden(consent.text, "csrf_token"),
            "request": hidden(consent.text, "request"),
            "scope": "read",
            "decision": "allow",
        },
    )
    answer = query_of(decision.headers["location"])
    tokens = (await server.exchange(flow, answer["code"])).json()
    principal = await server.auth.authenticate(tokens["access_token"])
    dora = await server.trace.get_account_by_email("dora@example.com")
    assert principal.account_id == dora.account_id


@pytest.mark.anyio
@pytest.mark.parametrize("signup_enabled", [True])
@pytest.mark.parametrize(
    ("email", "password", "status"),
    [
        ("not-an-email", "a long enough password", 400),
        ("erin@example.com", "short", 400),
        ("alice@example.com", "a long enough password", 409),
    ],
)
async def test_bad_sign_ups_are_refused_with_a_message(
    server: AuthServer, email: str, password: str, status: int
) -> None:
    form = await server.client.get("/signup")
    response = await server.client.post(
        "/signup",
        data={
            "csrf_token": hidden(form.text, "csrf_token"),
            "request": "",
            "email": email,
            "password": password,
        },
    )
    assert response.status_code == status
    assert 'role="alert"' in response.text


@pytest.mark.anyio
@pytest.mark.parametrize("signup_enabled", [True])
async def test_a_sign_up_without_the_csrf_token_is_refused(server: AuthServer) -> None:
    await server.client.get("/signup")
    response = await server.client.post(
        "/signup",
        data={"csrf_token": "x" * 43, "email": "f@example.com", "password": "long password 1"},
    )
    assert response.status_code == 403
