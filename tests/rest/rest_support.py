"""Helpers shared by the REST API tests (imported by conftest and tests)."""

from __future__ import annotations

from trace_core.errors import AuthenticationError
from trace_core.model import Principal

PUBLIC = "http://testserver"
SECRET = "k" * 48


class FakeAuthenticator:
    """Bearer tokens mapped to principals; anything else is invalid."""

    def __init__(self) -> None:
        self.tokens: dict[str, Principal] = {}

    async def authenticate(self, bearer: str, *, resource: str | None = None) -> Principal:
        try:
            return self.tokens[bearer]
        except KeyError:
            raise AuthenticationError("invalid or revoked") from None


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}
