"""Framework-free HTTP: the request and response the web layer converts, JSON errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from trace_core.errors import retry_after_seconds
from trace_core.model import Scope
from trace_oauth.clients import metadata_too_large

JSON_HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
]


class OAuthRequest(msgspec.Struct, frozen=True, kw_only=True):
    """An HTTP request as the authorization server needs it.

    ``path`` is the request path; ``query`` and ``form`` keep repeated
    parameters (pairs, in order); ``headers`` names are lower-case; ``body``
    is the raw body where the endpoint reads JSON (registration).
    """

    method: str
    path: str
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    query: list[tuple[str, str]] = msgspec.field(default_factory=list)
    form: list[tuple[str, str]] = msgspec.field(default_factory=list)
    body: bytes = b""
    client_ip: str | None = None


class OAuthResponse:
    """An HTTP response: status, body (a JSON-ready dict or text) and headers."""

    def __init__(
        self, status: int, body: dict[str, Any] | str, headers: Sequence[tuple[str, str]]
    ) -> None:
        self.status = status
        self.body = body
        self.headers = list(headers)

    @property
    def location(self) -> str | None:
        """The ``Location`` header, if any (authlib's ``iss`` extension rewrites it)."""
        return next((v for k, v in self.headers if k.lower() == "location"), None)

    @location.setter
    def location(self, value: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != "location"]
        self.headers.append(("Location", value))

    def header(self, name: str) -> str | None:
        """Return a header's value, or None."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def __repr__(self) -> str:
        return f"OAuthResponse({self.status}, {self.body!r})"


class AuthorizationPrompt(msgspec.Struct, frozen=True, kw_only=True):
    """A valid authorization request, ready for the login and consent pages."""

    client_id: str
    client_name: str
    redirect_uri: str
    redirect_host: str
    requested_scope: Scope
    """What to preselect on the consent page: ``full`` only if the client asked for it."""
    resource: str
    client_uri: str | None = None


class AuthorizationPageError(Exception):
    """The request cannot be answered with a redirect (unknown client, bad redirect URI).

    Show ``message`` on an error page; never redirect to an unvalidated URI.
    """

    def __init__(self, message: str, *, error: str = "invalid_request") -> None:
        super().__init__(message)
        self.message = message
        self.error = error


def registration_too_large() -> OAuthResponse:
    """Answer a registration whose body is over the limit (the web layer stops reading it)."""
    error = metadata_too_large()
    return json_error(error.status, error.error, error.message)


def json_error(status: int, error: str, description: str) -> OAuthResponse:
    """Return an OAuth JSON error (``error``, ``error_description``), not to be cached."""
    return OAuthResponse(status, {"error": error, "error_description": description}, JSON_HEADERS)


def rate_limited(retry_after: float) -> OAuthResponse:
    """Return 429 ``rate_limited`` with ``Retry-After`` in whole seconds, rounded up."""
    seconds = retry_after_seconds(retry_after)
    response = json_error(429, "rate_limited", f"too many requests; retry after {seconds} s")
    response.headers.append(("Retry-After", str(seconds)))
    return response


def unknown_client_is_401(response: OAuthResponse) -> OAuthResponse:
    """Make an ``invalid_client`` answer a 401 with a ``WWW-Authenticate`` challenge."""
    # MCP clients (Claude) re-register when the token endpoint answers 401
    # invalid_client: an unknown or deleted client must get exactly that.
    if isinstance(response.body, dict) and response.body.get("error") == "invalid_client":
        response.status = 401
        if response.header("WWW-Authenticate") is None:
            response.headers.append(("WWW-Authenticate", 'Basic realm="trace"'))
    return response
