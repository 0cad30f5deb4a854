"""Helpers shared by the HTTP app tests (imported by conftest and tests)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx2

from mcp import Client
from trace_core.errors import AuthenticationError
from trace_core.model import Principal
from trace_core.service import Trace
from trace_http.bootstrap import runtime_for
from trace_http.runtime import Runtime
from trace_http.settings import AuthSettings, McpSettings, ServerSettings, Settings
from trace_http.web.ratelimit import TokenBucketLimiter

PUBLIC = "http://testserver"
SECRET = b"k" * 48

TEST_SETTINGS = Settings(
    server=ServerSettings(public_url=PUBLIC),
    auth=AuthSettings(session_secret=SECRET.decode()),
    mcp=McpSettings(attachment_url_secret=SECRET.decode()),
)
"""Settings whose secrets are given, so a test runtime writes no key file."""


def runtime_for_tests(trace: Trace, settings: Settings = TEST_SETTINGS, **parts: Any) -> Runtime:
    """The runtime the composition root wires around ``trace``, as the tests want it.

    No background jobs and no rate limit unless a test passes them; credentials
    in memory (the facade's storage is not SQL); anything else as ``parts``.
    """
    parts.setdefault("background", ())
    parts.setdefault("limiter", TokenBucketLimiter(burst=1_000_000, rate=1_000_000.0))
    return runtime_for(settings, trace=trace, **parts)


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
