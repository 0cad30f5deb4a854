"""Settings of the authorization server and the bearer authenticator."""

from __future__ import annotations

from datetime import timedelta

import msgspec

__all__ = ["OAuthConfig"]


class OAuthConfig(msgspec.Struct, kw_only=True):
    """What the composition root tells trace_oauth about the deployment.

    ``issuer`` is the public origin (``https://HOST``), no trailing slash: it is
    the issuer in metadata and the ``iss`` of authorization responses, and the
    default resource of tokens.
    """

    issuer: str
    access_token_ttl: timedelta = timedelta(hours=1)
    refresh_token_ttl: timedelta = timedelta(days=365)
    code_ttl: timedelta = timedelta(minutes=10)
    refresh_grace: timedelta = timedelta(seconds=60)
    integrations_require_plan: bool = False
    plans_with_integrations: frozenset[str] | None = None
    """With ``integrations_require_plan``: which plans qualify (None: any plan at all)."""
    hash_key: str | None = None
    """Pepper for hashing secrets at rest; None uses a fixed domain-separation key."""
    registration_limit: int = 100
    """Client registrations allowed per client IP per hour."""
    login_attempt_limit: int = 10
    """Sign-in attempts allowed per email per 15 minutes (per address: five times as many)."""
    unused_client_ttl: timedelta = timedelta(days=1)
    """Registered clients never used for this long are deleted."""
    cimd_enabled: bool = True
    """Accept Client ID Metadata Documents (https ``client_id`` URLs fetched by the server).

    Off for servers without outbound internet: clients then fall back to registration.
    """
    cimd_allow_private_addresses: bool = False
    """Let client metadata documents be fetched from private/loopback addresses (tests only)."""
    cimd_timeout: float = 5.0
    cimd_max_bytes: int = 64 * 1024
    api_key_touch_interval: timedelta = timedelta(minutes=5)
    """``last_used_at`` of an API key is written at most this often."""
    account_cache_ttl: timedelta = timedelta(seconds=5)
    """How long the authenticator may reuse an account's active flag and plan.

    Keys and tokens are looked up on every request (revocation is immediate);
    only account changes (deactivation, plan) may take this long to be seen.
    Zero turns the cache off.
    """

    def __post_init__(self) -> None:
        self.issuer = self.issuer.rstrip("/")

    @property
    def resources(self) -> frozenset[str]:
        """The resource identifiers tokens may be issued for: the origin and its MCP URL."""
        return frozenset({self.issuer, f"{self.issuer}/mcp"})
