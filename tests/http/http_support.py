"""Helpers shared by the HTTP app tests (imported by conftest and tests)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx2

from mcp import Client
from trace_core.errors import AuthenticationError
from trace_core.model import Principal

PUBLIC = "http://testserver"
SECRET = b"k" * 48


class FakeAuthenticator:
    """Bearer tokens mapped to principals; anything else is invalid."""

    def __init__(self) -> None:
        self.tokens: dict[str, Principal] = {}
        self.resources: list[str | None] = []

    async def authenticate(self, bearer: str, *, resource: str | None = None) -> Principal:
        self.resources.append(resource)
        try:
            return self.tokens[bearer]
        except KeyError:
            raise AuthenticationError("invalid or revoked") from None


McpConnect = Callable[..., AbstractAsyncContextManager[Client]]


class Pair:
    """Two clients on the same facade: one app with the direct path, one without."""

    def __init__(self, direct: httpx2.AsyncClient, sdk: httpx2.AsyncClient) -> None:
        self.direct = direct
        self.sdk = sdk
