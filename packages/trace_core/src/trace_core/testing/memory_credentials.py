"""An in-memory :class:`~trace_core.credentials.CredentialStore` for tests and one-process demos.

Single event loop, no awaits inside a method: every method is trivially atomic.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import msgspec

from trace_core.credentials import (
    ApiKey,
    AuthorizationCode,
    CodeConsumption,
    CodeStatus,
    CredentialStore,
    OAuthClient,
    OAuthToken,
    RefreshRotation,
    RotationStatus,
    WebSession,
    rate_window_start,
)
from trace_core.errors import ConflictError

__all__ = ["InMemoryCredentialStore"]


class InMemoryCredentialStore(CredentialStore):
    """Credentials in dictionaries."""

    def __init__(self) -> None:
        self._keys: dict[UUID, ApiKey] = {}
        self._clients: dict[str, OAuthClient] = {}
        self._codes: dict[str, AuthorizationCode] = {}
        self._tokens: dict[UUID, OAuthToken] = {}
        self._buckets: dict[str, tuple[datetime, int]] = {}
        self._sessions: dict[str, WebSession] = {}

    # --- API keys ---------------------------------------------------------

    async def add_api_key(self, key: ApiKey) -> None:
        """Store a new API key."""
        if key.key_id in self._keys or any(
            k.secret_hash == key.secret_hash for k in self._keys.values()
        ):
            raise ConflictError("an API key with that id or secret exists")
        self._keys[key.key_id] = key

    async def get_api_key_by_hash(self, secret_hash: str) -> ApiKey | None:
        """Return the key with that hash, or None."""
        return next((k for k in self._keys.values() if k.secret_hash == secret_hash), None)

    async def get_api_key(self, account_id: UUID, key_id: UUID) -> ApiKey | None:
        """Return one of the account's keys, or None."""
        key = self._keys.get(key_id)
        return key if key is not None and key.account_id == account_id else None

    async def list_api_keys(self, account_id: UUID) -> list[ApiKey]:
        """Return the account's keys, newest first."""
        keys = [k for k in self._keys.values() if k.account_id == account_id]
        return sorted(keys, key=lambda k: (k.created_at, str(k.key_id)), reverse=True)

    async def revoke_api_key(self, account_id: UUID, key_id: UUID, now: datetime) -> bool:
        """Revoke the key if it is the account's and live."""
        key = await self.get_api_key(account_id, key_id)
        if key is None or key.revoked_at is not None:
            return False
        self._keys[key_id] = msgspec.structs.replace(key, revoked_at=now)
        return True

    async def touch_api_key(self, key_id: UUID, now: datetime) -> None:
        """Record a use."""
        key = self._keys.get(key_id)
        if key is not None:
            self._keys[key_id] = msgspec.structs.replace(key, last_used_at=now)

    # --- OAuth clients ----------------------------------------------------

    async def save_client(self, client: OAuthClient) -> None:
        """Insert or replace the client."""
        self._clients[client.client_id] = client

    async def get_client(self, client_id: str) -> OAuthClient | None:
        """Return the client, or None."""
        return self._clients.get(client_id)

    async def delete_client(self, client_id: str) -> bool:
        """Delete the client and revoke its tokens."""
        if self._clients.pop(client_id, None) is None:
            return False
        for token_id, token in list(self._tokens.items()):
            if token.client_id == client_id:
                del self._tokens[token_id]
        for code_hash, code in list(self._codes.items()):
            if code.client_id == client_id:
                del self._codes[code_hash]
        return True

    async def touch_client(self, client_id: str, now: datetime) -> None:
        """Record that tokens were issued to the client."""
        client = self._clients.get(client_id)
        if client is not None:
            self._clients[client_id] = msgspec.structs.replace(client, last_used_at=now)

    async def delete_unused_clients(self, registered_before: datetime) -> int:
        """Delete never-used DCR clients registered before the cutoff."""
        stale = [
            c.client_id
            for c in self._clients.values()
            if c.source == "dcr" and c.last_used_at is None and c.created_at < registered_before
        ]
        for client_id in stale:
            await self.delete_client(client_id)
        return len(stale)

    # --- authorization codes ----------------------------------------------

    async def add_authorization_code(self, code: AuthorizationCode) -> None:
        """Store a code."""
        if code.code_hash in self._codes:
            raise ConflictError("authorization code exists")
        self._codes[code.code_hash] = code

    async def consume_authorization_code(self, code_hash: str, now: datetime) -> CodeConsumption:
        """Mark the code used unless it already was."""
        code = self._codes.get(code_hash)
        if code is None:
            return CodeConsumption(status=CodeStatus.UNKNOWN)
        if code.used_at is not None:
            return CodeConsumption(status=CodeStatus.REUSED, code=code)
        used = msgspec.structs.replace(code, used_at=now)
        self._codes[code_hash] = used
        return CodeConsumption(status=CodeStatus.CONSUMED, code=used)

    # --- tokens -----------------------------------------------------------

    async def add_token(self, token: OAuthToken) -> None:
        """Store a token record."""
        if token.token_id in self._tokens:
            raise ConflictError("token exists")
        self._tokens[token.token_id] = token

    async def get_token_by_access_hash(self, access_hash: str) -> OAuthToken | None:
        """Return the record holding that access token, or None."""
        return next((t for t in self._tokens.values() if t.access_token_hash == access_hash), None)

    async def get_token_by_refresh_hash(self, refresh_hash: str) -> OAuthToken | None:
        """Return the record holding that refresh token, or None."""
        return next(
            (t for t in self._tokens.values() if t.refresh_token_hash == refresh_hash), None
        )

    async def rotate_refresh_token(
        self,
        refresh_hash: str,
        new_token: OAuthToken,
        *,
        now: datetime,
        grace: timedelta,
    ) -> RefreshRotation:
        """Exchange a refresh token (see the protocol for the rules)."""
        old = await self.get_token_by_refresh_hash(refresh_hash)
        if (
            old is None
            or old.revoked_at is not None
            or (old.refresh_expires_at is not None and now >= old.refresh_expires_at)
        ):
            return RefreshRotation(status=RotationStatus.INVALID, previous=old)
        if old.rotated_at is not None and now - old.rotated_at > grace:
            await self.revoke_token_family(old.family_id, now)
            return RefreshRotation(status=RotationStatus.REUSED, previous=old)
        if old.rotated_at is None:
            self._tokens[old.token_id] = msgspec.structs.replace(old, rotated_at=now)
        await self.add_token(msgspec.structs.replace(new_token, family_id=old.family_id))
        return RefreshRotation(status=RotationStatus.ROTATED, previous=old)

    async def revoke_token_family(self, family_id: UUID, now: datetime) -> int:
        """Revoke the family."""
        count = 0
        for token_id, token in list(self._tokens.items()):
            if token.family_id == family_id and token.revoked_at is None:
                self._tokens[token_id] = msgspec.structs.replace(token, revoked_at=now)
                count += 1
        return count

    async def list_tokens(self, account_id: UUID, now: datetime) -> list[OAuthToken]:
        """Return the account's live records, newest first."""
        live = [
            t
            for t in self._tokens.values()
            if t.account_id == account_id and t.revoked_at is None and _alive(t, now)
        ]
        return sorted(live, key=lambda t: (t.issued_at, str(t.token_id)), reverse=True)

    async def revoke_client_tokens(self, account_id: UUID, client_id: str, now: datetime) -> int:
        """Revoke the account's tokens for the client."""
        count = 0
        for token_id, token in list(self._tokens.items()):
            if (
                token.account_id == account_id
                and token.client_id == client_id
                and token.revoked_at is None
            ):
                self._tokens[token_id] = msgspec.structs.replace(token, revoked_at=now)
                count += 1
        return count

    async def delete_expired(self, now: datetime) -> int:
        """Delete expired codes and sessions, and dead tokens."""
        codes = [h for h, c in self._codes.items() if c.expires_at <= now]
        tokens = [i for i, t in self._tokens.items() if not _alive(t, now)]
        sessions = [h for h, s in self._sessions.items() if s.expires_at <= now]
        for code_hash in codes:
            del self._codes[code_hash]
        for token_id in tokens:
            del self._tokens[token_id]
        for session_hash in sessions:
            del self._sessions[session_hash]
        return len(codes) + len(tokens) + len(sessions)

    # --- web sessions -----------------------------------------------------

    async def add_session(self, session: WebSession) -> None:
        """Store a session."""
        if session.session_hash in self._sessions:
            raise ConflictError("a session with that id exists")
        self._sessions[session.session_hash] = session

    async def get_session(self, session_hash: str) -> WebSession | None:
        """Return the session with that hash, or None."""
        return self._sessions.get(session_hash)

    async def end_session(self, session_hash: str) -> bool:
        """Delete the session."""
        return self._sessions.pop(session_hash, None) is not None

    async def extend_session(self, session_hash: str, expires_at: datetime) -> bool:
        """Move the session's expiry."""
        session = self._sessions.get(session_hash)
        if session is None:
            return False
        self._sessions[session_hash] = msgspec.structs.replace(session, expires_at=expires_at)
        return True

    async def end_account_sessions(self, account_id: UUID) -> int:
        """Delete the account's sessions."""
        ended = [h for h, s in self._sessions.items() if s.account_id == account_id]
        for session_hash in ended:
            del self._sessions[session_hash]
        return len(ended)

    # --- rate limits ------------------------------------------------------

    async def hit_rate_limit(
        self, bucket: str, *, now: datetime, window: timedelta, limit: int
    ) -> float | None:
        """Count a hit in the current fixed window."""
        start = rate_window_start(now, window)
        stored_start, count = self._buckets.get(bucket, (start, 0))
        if stored_start != start:
            count = 0
        count += 1
        self._buckets[bucket] = (start, count)
        if count <= limit:
            return None
        return max((start + window - now).total_seconds(), 0.0)


def _alive(token: OAuthToken, now: datetime) -> bool:
    refresh_alive = token.refresh_token_hash is not None and (
        token.refresh_expires_at is None or now < token.refresh_expires_at
    )
    return now < token.access_expires_at or refresh_alive
