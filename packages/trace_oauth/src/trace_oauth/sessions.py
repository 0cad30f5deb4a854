"""Web sessions of the server's own pages (sign-in, consent, Settings) and their CSRF tokens.

A session is a random 256-bit id the browser keeps in a cookie; the credential
store keeps only its keyed hash (:class:`~trace_core.credentials.WebSession`),
with the account and an expiry. Every replica reads the same store, so
:meth:`WebSessions.end` (sign-out) and :meth:`WebSessions.end_all` (a password
change, see :func:`set_password`) take effect everywhere on the next request.

CSRF tokens are bound to what the browser holds: ``HMAC(key, "session:" + id)``
for a signed-in person, ``HMAC(key, "pre:" + nonce)`` before sign-in, where the
nonce is a random cookie of its own. The key derives from the server's session
secret, so someone who can plant a cookie in a browser still cannot compute
the token that goes with it, and a token from one session is worthless in
another.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from trace_core.credentials import CredentialStore, WebSession
from trace_core.ports import Clock
from trace_oauth.tokens import SecretHasher, new_secret

if TYPE_CHECKING:
    from trace_core.model import Account
    from trace_core.service import Trace

__all__ = ["SESSION_MAX_AGE", "SESSION_TTL", "WebSessions", "set_password"]

SESSION_TTL = timedelta(days=7)
"""How long a sign-in on the pages lasts unused; every use moves the end this far out."""

SESSION_MAX_AGE = timedelta(days=30)
"""How long a sign-in lasts at most, however often it is used (then sign in again)."""

RENEW_AFTER = 0.1
"""A used session's end is moved once this share of ``ttl`` has passed since the last move
(a write every few hours of use at most, not one per request)."""


class WebSessions:
    """Start, look up and end web sessions; make and check their CSRF tokens.

    Args:
        credentials: where session records live (shared by every replica).
        clock: the time sessions start and expire by.
        hasher: the keyed hash session ids are stored under (the credential pepper).
        secret: the server's session secret (≥ 32 bytes, the same on every replica).
        ttl: how long a session lasts unused (sliding: each use renews it).
        max_age: how long it lasts at most from sign-in.

    """

    def __init__(
        self,
        credentials: CredentialStore,
        clock: Clock,
        hasher: SecretHasher,
        secret: bytes,
        *,
        ttl: timedelta = SESSION_TTL,
        max_age: timedelta = SESSION_MAX_AGE,
    ) -> None:
        if len(secret) < 32:
            raise ValueError("the session secret must be at least 32 bytes")
        if ttl <= timedelta(0) or max_age < ttl:
            raise ValueError("sessions need 0 < ttl <= max_age")
        self._credentials = credentials
        self._clock = clock
        self._hasher = hasher
        self._csrf_key = hashlib.sha256(b"trace-csrf\x00" + secret).digest()
        self.ttl = ttl
        self.max_age = max_age

    async def start(self, account_id: UUID) -> str:
        """Start a session for the account; return its id (for the cookie, never stored)."""
        session_id = new_secret()
        now = self._clock.now()
        await self._credentials.add_session(
            WebSession(
                session_hash=self._hasher.hash(session_id),
                account_id=account_id,
                created_at=now,
                expires_at=now + self.ttl,
            )
        )
        return session_id

    async def account_for(self, session_id: str) -> UUID | None:
        """Return the account of a live session, or None (unknown, ended or expired).

        A live session is renewed: it ends ``ttl`` after this use (but never
        later than ``max_age`` after sign-in).
        """
        session_hash = self._hasher.hash(session_id)
        session = await self._credentials.get_session(session_hash)
        now = self._clock.now()
        if session is None or not session.is_live(now):
            return None
        renewed = min(now + self.ttl, session.created_at + self.max_age)
        if renewed - session.expires_at >= self.ttl * RENEW_AFTER:
            await self._credentials.extend_session(session_hash, renewed)
        return session.account_id

    async def end(self, session_id: str) -> None:
        """End the session (sign-out)."""
        await self._credentials.end_session(self._hasher.hash(session_id))

    async def end_all(self, account_id: UUID) -> int:
        """End every session of the account; return how many were live or stored."""
        return await self._credentials.end_account_sessions(account_id)

    def csrf_token(self, *, session_id: str | None = None, nonce: str | None = None) -> str:
        """Return the CSRF token for a session, or (before sign-in) for a pre-session nonce."""
        if session_id is not None:
            binding = f"session:{session_id}"
        elif nonce is not None:
            binding = f"pre:{nonce}"
        else:
            raise ValueError("a CSRF token is bound to a session id or a nonce")
        return hmac.new(self._csrf_key, binding.encode(), hashlib.sha256).hexdigest()

    def csrf_valid(
        self, token: str, *, session_id: str | None = None, nonce: str | None = None
    ) -> bool:
        """Return whether ``token`` is the one bound to that session (or nonce)."""
        if session_id is None and nonce is None:
            return False
        expected = self.csrf_token(session_id=session_id, nonce=nonce)
        return hmac.compare_digest(expected.encode(), token.encode("utf-8", "replace"))


async def set_password(
    trace: Trace, credentials: CredentialStore, account_id: UUID, password_hash: str
) -> Account:
    """Change an account's password and end every web session it has.

    Every path that changes a password goes through here, so a session started
    with the old password (perhaps by someone who guessed or stole it) ends.

    Raises:
        NotFoundError: no such account.

    """
    account = await trace.update_account(account_id, password_hash=password_hash)
    await credentials.end_account_sessions(account_id)
    return account
