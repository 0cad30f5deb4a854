"""Helpers of the people's pages tests: the site, a browser, signing in, form fields."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import httpx

from trace_core.model import Account, Principal
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock
from trace_http.runtime import Runtime

ORIGIN = "http://testserver.local"
PASSWORD = "correct horse battery staple"
IMAGE_LIMIT = 64 * 1024
"""The attachment size limit of these tests (small, so over-limit files stay small)."""


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no field {name} in page"
    return html.unescape(match.group(1))


@dataclass
class Site:
    app: object
    trace: Trace
    alice: Account
    bob: Account
    clock: FixedClock
    runtime: Runtime

    def browser(self) -> httpx.AsyncClient:
        """A browser of its own (cookies), sending our Origin on POSTs like a real one."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),  # type: ignore[arg-type]
            base_url=ORIGIN,
            headers={"Accept": "text/html"},
        )

    def as_(self, account: Account) -> Principal:
        return self.trace.principal_for(account, actor="test")


async def sign_in(browser: httpx.AsyncClient, email: str = "alice@example.com") -> None:
    form = await browser.get("/signin")
    response = await browser.post(
        "/signin",
        data={
            "csrf_token": hidden(form.text, "csrf_token"),
            "email": email,
            "password": PASSWORD,
            "next": "/home",
        },
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/home"
