"""The person at the sign-in and consent pages, for scripts that drive real OAuth clients.

Used by ``auth_conformance.py`` and ``claude_code_oauth.py`` (run as scripts, so
this module is imported from their own folder).
"""

from __future__ import annotations

import html
import re
import socket

import httpx


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def form_field(page: str, name: str) -> str:
    """Return the value of the hidden form field ``name`` on an HTML page."""
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    if not match:
        raise RuntimeError(f"no {name} field on the page")
    return html.unescape(match.group(1))


def approve(authorize_url: str, base_url: str, *, email: str, password: str) -> str:
    """Sign in, allow Full Access, and return the redirect URL (the client's callback)."""
    with httpx.Client(base_url=base_url, timeout=30, follow_redirects=False) as browser:
        login = browser.get(authorize_url)
        login.raise_for_status()
        consent = browser.post(
            "/authorize/login",
            data={
                "csrf_token": form_field(login.text, "csrf_token"),
                "request": form_field(login.text, "request"),
                "email": email,
                "password": password,
            },
        )
        consent.raise_for_status()
        decision = browser.post(
            "/authorize/consent",
            data={
                "csrf_token": form_field(consent.text, "csrf_token"),
                "request": form_field(consent.text, "request"),
                "scope": "full",
                "decision": "allow",
            },
        )
    if decision.status_code != 302:
        raise RuntimeError(f"consent answered {decision.status_code}: {decision.text}")
    return decision.headers["location"]
