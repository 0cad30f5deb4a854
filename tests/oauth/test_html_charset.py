"""Every HTML answer names its charset once (``text/html; charset=utf-8``)."""

from __future__ import annotations

import re

import pytest
from oauth_support import AuthServer, Flow, sign_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def signup_enabled() -> bool:
    return True


def _get_paths(server: AuthServer) -> list[str]:
    """Every GET route of the app, path parameters filled with a made-up value."""
    paths = set()
    for route in server.app.routes:
        if "GET" in getattr(route, "methods", ()):
            paths.add(re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", route.path))
    return sorted(paths)


async def test_every_html_answer_names_one_charset(server: AuthServer) -> None:
    client = server.client
    html_paths = []
    for path in _get_paths(server):
        response = await client.get(path)
        content_type = response.headers.get("content-type", "")
        if content_type.startswith("text/html"):
            html_paths.append(path)
            assert content_type == "text/html; charset=utf-8", f"{path}: {content_type}"
    # The pages themselves, signed in and out, an authorization request and an error.
    assert {"/signin", "/signup", "/authorize"} <= set(html_paths)
    await sign_in(client)
    client_id = (await server.register())["client_id"]
    answers = [
        await client.get("/settings/integrations"),
        await client.get("/authorize", params=Flow(client_id=client_id).params()),
        await client.post("/signin", data={"email": "x"}),  # CSRF refused: the error page
    ]
    for response in answers:
        assert response.headers["content-type"] == "text/html; charset=utf-8", response.url
