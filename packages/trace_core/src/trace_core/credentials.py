"""Credentials: API keys, OAuth clients, codes, tokens, web sessions and rate-limit buckets.

These live behind their own port, :class:`CredentialStore`, separate from the
entry :class:`~trace_core.ports.Storage`: they change on a different rhythm (every
sign-in, every token refresh) and some deployments may keep them elsewhere.

Secrets are never stored: every record holds a hash of its secret (API key,
access token, refresh token, authorization code, client secret, web session id). Looking a
credential up means hashing what was presented and asking for that hash.

Every method is its own transaction. The ones that must not race
(:meth:`CredentialStore.consume_authorization_code`,
:meth:`CredentialStore.rotate_refresh_token`, :meth:`CredentialStore.hit_rate_limit`)
are atomic: of two concurrent callers exactly one wins.
"""

from __future__ import annotations

import enum
import math
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol
from uuid import UUID

import msgspec

from trace_core.model import Scope

__all__ = [
    "ApiKey",
    "AuthorizationCode",
    "CodeConsumption",
    "CodeStatus",
    "CredentialStore",
    "OAuthClient",
    "OAuthToken",
    "RefreshRotation",
    "RotationStatus",
    "WebSession",
    "rate_window_start",
]


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """A long-lived bearer key a person created for a script or client.

    ``prefix`` is the short visible start of the key (``trace_AbCd1234``) so a
    person can tell keys apart in a listing; ``secret_hash`` is the keyed hash
    of the whole key.
    """

    key_id: UUID
    account_id: UUID
    name: str
    prefix: str
    secret_hash: str
    scope: Scope
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    expires_at: datetime | None = None

    def is_usable(self, now: datetime) -> bool:
        """Return whether the key is neither revoked nor expired at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


ClientSource = Literal["dcr", "cimd"]


class OAuthClient(msgspec.Struct, frozen=True, kw_only=True):
    """An OAuth client: registered dynamically (RFC 7591) or described by a metadata document.

    Clients are global, not per account: one registration serves whoever signs
    in through it. ``extra`` keeps the other registered metadata fields
    (``client_uri``, ``logo_uri``, ``software_id``...) to echo them back.
    """

    client_id: str
    client_name: str
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...] = ("authorization_code", "refresh_token")
    response_types: tuple[str, ...] = ("code",)
    token_endpoint_auth_method: str = "none"  # noqa: S105 (an auth method name, not a secret)
    scope: str | None = None
    application_type: str | None = None
    client_secret_hash: str | None = None
    source: ClientSource = "dcr"
    extra: dict[str, Any] = msgspec.field(default_factory=dict)
    created_at: datetime
    last_used_at: datetime | None = None
    metadata_expires_at: datetime | None = None
    """For CIMD clients: when the fetched document must be fetched again."""

    @property
    def is_public(self) -> bool:
        """Whether the client has no secret (``token_endpoint_auth_method`` ``none``)."""
        return self.token_endpoint_auth_method == "none"  # noqa: S105


class AuthorizationCode(msgspec.Struct, frozen=True, kw_only=True):
    """A one-time code from ``/authorize``, bound to everything the token request must repeat.

    ``family_id`` is chosen when the code is issued: every token that descends
    from this code shares it, so a replayed code can revoke them all.
    """

    code_hash: str
    client_id: str
    account_id: UUID
    redirect_uri: str
    scope: Scope
    resource: str
    code_challenge: str
    code_challenge_method: str = "S256"
    family_id: UUID
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class CodeStatus(enum.StrEnum):
    """What :meth:`CredentialStore.consume_authorization_code` found."""

    CONSUMED = "consumed"
    """The code was unused and is now used: go on and issue tokens."""
    REUSED = "reused"
    """The code was used before: refuse, and revoke what it issued."""
    UNKNOWN = "unknown"


class CodeConsumption(msgspec.Struct, frozen=True, kw_only=True):
    """Result of consuming a code: the status and, unless unknown, the code."""

    status: CodeStatus
    code: AuthorizationCode | None = None


class OAuthToken(msgspec.Struct, frozen=True, kw_only=True):
    """One issued access token and (usually) its refresh token.

    Tokens issued from one authorization form a family (``family_id``): each
    refresh rotates to a new record in the same family and stamps the old one's
    ``rotated_at``. Revoking a family revokes every record in it.
    """

    token_id: UUID
    family_id: UUID
    account_id: UUID
    client_id: str
    scope: Scope
    resource: str
    access_token_hash: str
    refresh_token_hash: str | None = None
    issued_at: datetime
    access_expires_at: datetime
    refresh_expires_at: datetime | None = None
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None

    def access_valid(self, now: datetime) -> bool:
        """Return whether the access token is unrevoked and unexpired at ``now``."""
        return self.revoked_at is None and now < self.access_expires_at


class RotationStatus(enum.StrEnum):
    """What :meth:`CredentialStore.rotate_refresh_token` did."""

    ROTATED = "rotated"
    """The new record was stored; the old refresh token is now spent."""
    REUSED = "reused"
    """The refresh token was spent longer ago than the grace window: family revoked."""
    INVALID = "invalid"
    """Unknown, revoked or expired refresh token: nothing changed."""


class RefreshRotation(msgspec.Struct, frozen=True, kw_only=True):
    """Result of a refresh-token rotation."""

    status: RotationStatus
    previous: OAuthToken | None = None


class WebSession(msgspec.Struct, frozen=True, kw_only=True):
    """A person signed in on the server's own pages (sign-in, consent, Settings).

    The browser holds the random session id in a signed cookie; the record holds
    only its keyed hash, so it lives in the database every replica shares and
    signing out (or a password change) ends it for all of them at once.
    """

    session_hash: str
    account_id: UUID
    created_at: datetime
    expires_at: datetime

    def is_live(self, now: datetime) -> bool:
        """Return whether the session has not expired at ``now``."""
        return now < self.expires_at


class CredentialStore(Protocol):
    """Persistence for API keys, OAuth clients, codes, tokens, web sessions and rate limits.

    Lookups by secret hash are global (the hash identifies the credential);
    everything a person lists or revokes is scoped by ``account_id``.
    """

    # --- API keys ---------------------------------------------------------

    async def add_api_key(self, key: ApiKey) -> None:
        """Store a new API key.

        Raises:
            ConflictError: a key with that hash or id exists.

        """
        ...

    async def get_api_key_by_hash(self, secret_hash: str) -> ApiKey | None:
        """Return the key whose secret hashes to ``secret_hash`` (revoked ones too), or None."""
        ...

    async def get_api_key(self, account_id: UUID, key_id: UUID) -> ApiKey | None:
        """Return one of the account's keys, or None."""
        ...

    async def list_api_keys(self, account_id: UUID) -> list[ApiKey]:
        """Return the account's keys, revoked ones included, newest first."""
        ...

    async def revoke_api_key(self, account_id: UUID, key_id: UUID, now: datetime) -> bool:
        """Revoke the key if it belongs to the account and is not revoked yet.

        Returns:
            True if the key was revoked by this call.

        """
        ...

    async def touch_api_key(self, key_id: UUID, now: datetime) -> None:
        """Record that the key was used at ``now``."""
        ...

    # --- OAuth clients ----------------------------------------------------

    async def save_client(self, client: OAuthClient) -> None:
        """Insert the client, or replace the stored one with the same ``client_id``."""
        ...

    async def get_client(self, client_id: str) -> OAuthClient | None:
        """Return the client, or None."""
        ...

    async def delete_client(self, client_id: str) -> bool:
        """Delete the client and revoke every token issued to it.

        Returns:
            True if a client was deleted.

        """
        ...

    async def touch_client(self, client_id: str, now: datetime) -> None:
        """Record that tokens were issued to the client at ``now``."""
        ...

    async def delete_unused_clients(self, registered_before: datetime) -> int:
        """Delete dynamically registered clients never used and registered before the cutoff.

        Returns:
            How many clients were deleted.

        """
        ...

    # --- authorization codes ----------------------------------------------

    async def add_authorization_code(self, code: AuthorizationCode) -> None:
        """Store a freshly issued code."""
        ...

    async def consume_authorization_code(self, code_hash: str, now: datetime) -> CodeConsumption:
        """Mark the code used, atomically: of two concurrent calls exactly one gets CONSUMED.

        Expiry is not checked here; the caller compares ``expires_at``.
        """
        ...

    # --- tokens -----------------------------------------------------------

    async def add_token(self, token: OAuthToken) -> None:
        """Store a newly issued token record."""
        ...

    async def get_token_by_access_hash(self, access_hash: str) -> OAuthToken | None:
        """Return the record holding that access token (revoked ones too), or None."""
        ...

    async def get_token_by_refresh_hash(self, refresh_hash: str) -> OAuthToken | None:
        """Return the record holding that refresh token (revoked ones too), or None."""
        ...

    async def rotate_refresh_token(
        self,
        refresh_hash: str,
        new_token: OAuthToken,
        *,
        now: datetime,
        grace: timedelta,
    ) -> RefreshRotation:
        """Exchange a refresh token for ``new_token`` (same family), atomically.

        - unknown, revoked or expired (``refresh_expires_at``): INVALID, nothing stored;
        - never rotated, or rotated less than ``grace`` ago (a client retrying
          after a lost response): ``new_token`` is stored, the old record's
          ``rotated_at`` set if it was not, ROTATED;
        - rotated longer than ``grace`` ago (a stolen token replayed): every
          token of the family is revoked, REUSED.
        """
        ...

    async def revoke_token_family(self, family_id: UUID, now: datetime) -> int:
        """Revoke every unrevoked token of the family; return how many were revoked."""
        ...

    async def list_tokens(self, account_id: UUID, now: datetime) -> list[OAuthToken]:
        """Return the account's live tokens (unrevoked, not yet dead), newest first."""
        ...

    async def revoke_client_tokens(self, account_id: UUID, client_id: str, now: datetime) -> int:
        """Revoke every token the account granted to the client ("disconnect the app")."""
        ...

    async def delete_expired(self, now: datetime) -> int:
        """Delete codes and web sessions past expiry, and tokens whose both tokens have expired.

        Returns:
            How many rows were deleted.

        """
        ...

    # --- web sessions -----------------------------------------------------

    async def add_session(self, session: WebSession) -> None:
        """Store a new web session.

        Raises:
            ConflictError: a session with that hash exists.

        """
        ...

    async def get_session(self, session_hash: str) -> WebSession | None:
        """Return the session whose id hashes to ``session_hash`` (expired ones too), or None."""
        ...

    async def end_session(self, session_hash: str) -> bool:
        """End (delete) the session; return whether there was one."""
        ...

    async def extend_session(self, session_hash: str, expires_at: datetime) -> bool:
        """Move a session's expiry to ``expires_at`` (sliding sign-in); whether there was one."""
        ...

    async def end_account_sessions(self, account_id: UUID) -> int:
        """End every session of the account (a password change); return how many."""
        ...

    # --- rate limits ------------------------------------------------------

    async def hit_rate_limit(
        self, bucket: str, *, now: datetime, window: timedelta, limit: int
    ) -> float | None:
        """Count one hit on ``bucket`` in the current fixed window, atomically.

        Shared by every replica (it lives with the credentials), used for login
        attempts and client registrations.

        Returns:
            None if the hit is within ``limit`` for the window; otherwise the
            seconds until the window ends (the hit is still counted).

        """
        ...


def rate_window_start(now: datetime, window: timedelta) -> datetime:
    """Return the start of the fixed rate-limit window containing ``now`` (epoch-aligned)."""
    seconds = window.total_seconds()
    start = math.floor(now.timestamp() / seconds) * seconds
    return datetime.fromtimestamp(start, tz=now.tzinfo)
