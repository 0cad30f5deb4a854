"""API keys: created in Settings or with ``trace key create``, sent as ``Authorization: Bearer``.

A key is ``trace_`` followed by 32 random bytes (URL-safe base64). It is shown
once at creation; the store keeps its keyed hash (see :mod:`trace_oauth.tokens`)
and a short visible prefix so people can tell their keys apart.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

import msgspec

from trace_core.credentials import ApiKey, CredentialStore
from trace_core.errors import InvalidInputError, NotFoundError
from trace_core.model import Scope
from trace_core.ports import Clock
from trace_oauth.tokens import API_KEY_PREFIX, SecretHasher, new_secret

__all__ = ["MAX_KEY_NAME", "ApiKeyService", "CreatedApiKey"]

MAX_KEY_NAME = 100
VISIBLE_CHARS = 8
"""Random characters of the key shown in listings after ``trace_``: 48 bits, not enough to guess."""


class CreatedApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """A new key: the stored record and the plaintext, which is never shown again."""

    key: ApiKey
    plaintext: str


class ApiKeyService:
    """Create, list, revoke and verify API keys."""

    def __init__(self, credentials: CredentialStore, clock: Clock, hasher: SecretHasher) -> None:
        self.credentials = credentials
        self.clock = clock
        self.hasher = hasher

    async def create(
        self,
        account_id: UUID,
        name: str,
        scope: Scope | str,
        *,
        expires_at: datetime | None = None,
    ) -> CreatedApiKey:
        """Create a key for the account and return it with its plaintext.

        Raises:
            InvalidInputError: empty or over-long name, or an unknown scope.

        """
        name = (name or "").strip()
        if not name or len(name) > MAX_KEY_NAME:
            raise InvalidInputError("name", f"must be 1 to {MAX_KEY_NAME} characters")
        try:
            scope = Scope(scope)
        except ValueError:
            raise InvalidInputError(
                "scope", f"unknown scope {scope!r}", allowed=[s.value for s in Scope]
            ) from None
        plaintext = new_secret(API_KEY_PREFIX)
        key = ApiKey(
            key_id=uuid.uuid4(),
            account_id=account_id,
            name=name,
            prefix=plaintext[: len(API_KEY_PREFIX) + VISIBLE_CHARS],
            secret_hash=self.hasher.hash(plaintext),
            scope=scope,
            created_at=self.clock.now(),
            expires_at=expires_at,
        )
        await self.credentials.add_api_key(key)
        return CreatedApiKey(key=key, plaintext=plaintext)

    async def list_keys(self, account_id: UUID) -> list[ApiKey]:
        """Return the account's keys (revoked ones too), newest first."""
        return await self.credentials.list_api_keys(account_id)

    async def revoke(self, account_id: UUID, key_id: UUID) -> ApiKey:
        """Revoke one of the account's keys; revoking a revoked key is not an error.

        Raises:
            NotFoundError: the account has no such key.

        """
        await self.credentials.revoke_api_key(account_id, key_id, self.clock.now())
        key = await self.credentials.get_api_key(account_id, key_id)
        if key is None:
            raise NotFoundError("api key", key_id)
        return key

    async def find(self, plaintext: str) -> ApiKey | None:
        """Return the stored record of a presented key (whatever its state), or None."""
        if not plaintext.startswith(API_KEY_PREFIX):
            return None
        return await self.credentials.get_api_key_by_hash(self.hasher.hash(plaintext))
