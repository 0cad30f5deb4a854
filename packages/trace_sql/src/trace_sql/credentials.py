"""The :class:`~trace_core.credentials.CredentialStore` on SQLite and PostgreSQL.

Tables (on the shared :data:`trace_sql.tables.metadata`; migration
``0002_credentials``): ``api_keys``, ``oauth_clients``, ``oauth_codes``,
``oauth_tokens``, ``rate_limits``; and ``web_sessions`` (migration
``0020_web_sessions``). Only hashes of secrets are stored.

There are deliberately no foreign keys from these tables to ``accounts`` or
``oauth_clients``: a credential row never outlives its owner's usefulness by
accident because every lookup re-checks the account and client, and deleting a
client deletes its codes and tokens explicitly in the same transaction.

Each method is one transaction. The racy ones are made atomic with a
conditional ``UPDATE`` (codes), a row lock / SQLite's write lock (refresh
rotation) or an ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (rate limits).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

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
from trace_core.model import Scope
from trace_sql.storage import SqlStorage
from trace_sql.tables import metadata
from trace_sql.types import JSONType, UTCDateTime

__all__ = [
    "SqlCredentialStore",
    "api_keys",
    "oauth_clients",
    "oauth_codes",
    "oauth_tokens",
    "rate_limits",
    "web_sessions",
]

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.Uuid(), primary_key=True),
    sa.Column("account_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("prefix", sa.String(), nullable=False),
    sa.Column("secret_hash", sa.String(), nullable=False, unique=True),
    sa.Column("scope", sa.String(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("last_used_at", UTCDateTime(), nullable=True),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    sa.Column("expires_at", UTCDateTime(), nullable=True),
)

oauth_clients = sa.Table(
    "oauth_clients",
    metadata,
    sa.Column("client_id", sa.String(), primary_key=True),
    sa.Column("client_name", sa.String(), nullable=False),
    sa.Column("redirect_uris", JSONType, nullable=False),
    sa.Column("grant_types", JSONType, nullable=False),
    sa.Column("response_types", JSONType, nullable=False),
    sa.Column("token_endpoint_auth_method", sa.String(), nullable=False),
    sa.Column("scope", sa.String(), nullable=True),
    sa.Column("application_type", sa.String(), nullable=True),
    sa.Column("client_secret_hash", sa.String(), nullable=True),
    sa.Column("source", sa.String(), nullable=False),
    sa.Column("extra", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("last_used_at", UTCDateTime(), nullable=True),
    sa.Column("metadata_expires_at", UTCDateTime(), nullable=True),
)

oauth_codes = sa.Table(
    "oauth_codes",
    metadata,
    sa.Column("code_hash", sa.String(), primary_key=True),
    sa.Column("client_id", sa.String(), nullable=False, index=True),
    sa.Column("account_id", sa.Uuid(), nullable=False),
    sa.Column("redirect_uri", sa.String(), nullable=False),
    sa.Column("scope", sa.String(), nullable=False),
    sa.Column("resource", sa.String(), nullable=False),
    sa.Column("code_challenge", sa.String(), nullable=False),
    sa.Column("code_challenge_method", sa.String(), nullable=False),
    sa.Column("family_id", sa.Uuid(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False, index=True),
    sa.Column("used_at", UTCDateTime(), nullable=True),
)

oauth_tokens = sa.Table(
    "oauth_tokens",
    metadata,
    sa.Column("token_id", sa.Uuid(), primary_key=True),
    sa.Column("family_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("account_id", sa.Uuid(), nullable=False),
    sa.Column("client_id", sa.String(), nullable=False, index=True),
    sa.Column("scope", sa.String(), nullable=False),
    sa.Column("resource", sa.String(), nullable=False),
    sa.Column("access_token_hash", sa.String(), nullable=False, unique=True),
    sa.Column("refresh_token_hash", sa.String(), nullable=True, unique=True),
    sa.Column("issued_at", UTCDateTime(), nullable=False),
    sa.Column("access_expires_at", UTCDateTime(), nullable=False),
    sa.Column("refresh_expires_at", UTCDateTime(), nullable=True),
    sa.Column("rotated_at", UTCDateTime(), nullable=True),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    sa.Index("ix_oauth_tokens_account_id_client_id", "account_id", "client_id"),
)

rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("bucket", sa.String(), primary_key=True),
    sa.Column("window_start", UTCDateTime(), nullable=False),
    sa.Column("hits", sa.Integer(), nullable=False),
)

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("session_hash", sa.String(), primary_key=True),
    sa.Column("account_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False, index=True),
)


# --- rows <-> entities ---------------------------------------------------------------


def _key_from_row(row: Mapping[Any, Any]) -> ApiKey:
    return ApiKey(
        key_id=row["key_id"],
        account_id=row["account_id"],
        name=row["name"],
        prefix=row["prefix"],
        secret_hash=row["secret_hash"],
        scope=Scope(row["scope"]),
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
        expires_at=row["expires_at"],
    )


def _client_to_row(client: OAuthClient) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "client_name": client.client_name,
        "redirect_uris": list(client.redirect_uris),
        "grant_types": list(client.grant_types),
        "response_types": list(client.response_types),
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "scope": client.scope,
        "application_type": client.application_type,
        "client_secret_hash": client.client_secret_hash,
        "source": client.source,
        "extra": dict(client.extra),
        "created_at": client.created_at,
        "last_used_at": client.last_used_at,
        "metadata_expires_at": client.metadata_expires_at,
    }


def _client_from_row(row: Mapping[Any, Any]) -> OAuthClient:
    return OAuthClient(
        client_id=row["client_id"],
        client_name=row["client_name"],
        redirect_uris=tuple(row["redirect_uris"]),
        grant_types=tuple(row["grant_types"]),
        response_types=tuple(row["response_types"]),
        token_endpoint_auth_method=row["token_endpoint_auth_method"],
        scope=row["scope"],
        application_type=row["application_type"],
        client_secret_hash=row["client_secret_hash"],
        source=row["source"],
        extra=dict(row["extra"] or {}),
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        metadata_expires_at=row["metadata_expires_at"],
    )


def _code_to_row(code: AuthorizationCode) -> dict[str, Any]:
    return {
        "code_hash": code.code_hash,
        "client_id": code.client_id,
        "account_id": code.account_id,
        "redirect_uri": code.redirect_uri,
        "scope": code.scope.value,
        "resource": code.resource,
        "code_challenge": code.code_challenge,
        "code_challenge_method": code.code_challenge_method,
        "family_id": code.family_id,
        "created_at": code.created_at,
        "expires_at": code.expires_at,
        "used_at": code.used_at,
    }


def _code_from_row(row: Mapping[Any, Any]) -> AuthorizationCode:
    return AuthorizationCode(
        code_hash=row["code_hash"],
        client_id=row["client_id"],
        account_id=row["account_id"],
        redirect_uri=row["redirect_uri"],
        scope=Scope(row["scope"]),
        resource=row["resource"],
        code_challenge=row["code_challenge"],
        code_challenge_method=row["code_challenge_method"],
        family_id=row["family_id"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        used_at=row["used_at"],
    )


def _token_to_row(token: OAuthToken) -> dict[str, Any]:
    return {
        "token_id": token.token_id,
        "family_id": token.family_id,
        "account_id": token.account_id,
        "client_id": token.client_id,
        "scope": token.scope.value,
        "resource": token.resource,
        "access_token_hash": token.access_token_hash,
        "refresh_token_hash": token.refresh_token_hash,
        "issued_at": token.issued_at,
        "access_expires_at": token.access_expires_at,
        "refresh_expires_at": token.refresh_expires_at,
        "rotated_at": token.rotated_at,
        "revoked_at": token.revoked_at,
    }


def _token_from_row(row: Mapping[Any, Any]) -> OAuthToken:
    return OAuthToken(
        token_id=row["token_id"],
        family_id=row["family_id"],
        account_id=row["account_id"],
        client_id=row["client_id"],
        scope=Scope(row["scope"]),
        resource=row["resource"],
        access_token_hash=row["access_token_hash"],
        refresh_token_hash=row["refresh_token_hash"],
        issued_at=row["issued_at"],
        access_expires_at=row["access_expires_at"],
        refresh_expires_at=row["refresh_expires_at"],
        rotated_at=row["rotated_at"],
        revoked_at=row["revoked_at"],
    )


def _token_alive(now: datetime) -> sa.ColumnElement[bool]:
    """Return SQL for "the access token or the refresh token is still unexpired"."""
    t = oauth_tokens.c
    return sa.or_(
        t.access_expires_at > now,
        sa.and_(
            t.refresh_token_hash.is_not(None),
            sa.or_(t.refresh_expires_at.is_(None), t.refresh_expires_at > now),
        ),
    )


# Built once: checked on every authenticated request.
_KEY_BY_HASH = sa.select(api_keys).where(api_keys.c.secret_hash == sa.bindparam("secret_hash"))
_TOKEN_BY_ACCESS_HASH = sa.select(oauth_tokens).where(
    oauth_tokens.c.access_token_hash == sa.bindparam("token_hash")
)
_TOKEN_BY_REFRESH_HASH = sa.select(oauth_tokens).where(
    oauth_tokens.c.refresh_token_hash == sa.bindparam("token_hash")
)
_SESSION_BY_HASH = sa.select(web_sessions).where(
    web_sessions.c.session_hash == sa.bindparam("session_hash")
)


class SqlCredentialStore(CredentialStore):
    """Credentials in the database of a :class:`~trace_sql.storage.SqlStorage`."""

    def __init__(self, storage: SqlStorage) -> None:
        self._storage = storage

    # --- API keys ---------------------------------------------------------

    async def add_api_key(self, key: ApiKey) -> None:
        """Store a new API key; ConflictError on a duplicate id or hash."""
        row = {f: getattr(key, f) for f in key.__struct_fields__}
        row["scope"] = key.scope.value
        async with self._storage.connect(write=True) as conn:
            await conn.execute(sa.insert(api_keys).values(row))

    async def get_api_key_by_hash(self, secret_hash: str) -> ApiKey | None:
        """Return the key with that hash, or None."""
        async with self._storage.read() as conn:
            result = await conn.execute(_KEY_BY_HASH, {"secret_hash": secret_hash})
            row = result.mappings().first()
        return _key_from_row(row) if row else None

    async def get_api_key(self, account_id: UUID, key_id: UUID) -> ApiKey | None:
        """Return one of the account's keys, or None."""
        async with self._storage.read() as conn:
            result = await conn.execute(
                sa.select(api_keys).where(
                    api_keys.c.key_id == key_id, api_keys.c.account_id == account_id
                )
            )
            row = result.mappings().first()
        return _key_from_row(row) if row else None

    async def list_api_keys(self, account_id: UUID) -> list[ApiKey]:
        """Return the account's keys, newest first."""
        async with self._storage.connect() as conn:
            result = await conn.execute(
                sa.select(api_keys)
                .where(api_keys.c.account_id == account_id)
                .order_by(api_keys.c.created_at.desc(), api_keys.c.key_id.desc())
            )
            return [_key_from_row(row) for row in result.mappings()]

    async def revoke_api_key(self, account_id: UUID, key_id: UUID, now: datetime) -> bool:
        """Revoke the key if it is the account's and live."""
        async with self._storage.connect(write=True) as conn:
            result = await conn.execute(
                sa.update(api_keys)
                .where(
                    api_keys.c.key_id == key_id,
                    api_keys.c.account_id == account_id,
                    api_keys.c.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
            return bool(result.rowcount)

    async def touch_api_key(self, key_id: UUID, now: datetime) -> None:
        """Record a use."""
        async with self._storage.connect(write=True) as conn:
            await conn.execute(
                sa.update(api_keys).where(api_keys.c.key_id == key_id).values(last_used_at=now)
            )

    # --- OAuth clients ----------------------------------------------------

    async def save_client(self, client: OAuthClient) -> None:
        """Insert or replace the client."""
        row = _client_to_row(client)
        async with self._storage.connect(write=True) as conn:
            result = await conn.execute(
                sa.update(oauth_clients)
                .where(oauth_clients.c.client_id == client.client_id)
                .values({k: v for k, v in row.items() if k != "client_id"})
            )
            if not result.rowcount:
                await conn.execute(sa.insert(oauth_clients).values(row))

    async def get_client(self, client_id: str) -> OAuthClient | None:
        """Return the client, or None."""
        async with self._storage.read() as conn:
            result = await conn.execute(
                sa.select(oauth_clients).where(oauth_clients.c.client_id == client_id)
            )
            row = result.mappings().first()
        return _client_from_row(row) if row else None

    async def delete_client(self, client_id: str) -> bool:
        """Delete the client with its codes and tokens."""
        async with self._storage.connect(write=True) as conn:
            return await self._delete_clients(conn, [client_id]) > 0

    @staticmethod
    async def _delete_clients(conn: AsyncConnection, client_ids: list[str]) -> int:
        if not client_ids:
            return 0
        await conn.execute(sa.delete(oauth_tokens).where(oauth_tokens.c.client_id.in_(client_ids)))
        await conn.execute(sa.delete(oauth_codes).where(oauth_codes.c.client_id.in_(client_ids)))
        result = await conn.execute(
            sa.delete(oauth_clients).where(oauth_clients.c.client_id.in_(client_ids))
        )
        return int(result.rowcount)

    async def touch_client(self, client_id: str, now: datetime) -> None:
        """Record that tokens were issued to the client."""
        async with self._storage.connect(write=True) as conn:
            await conn.execute(
                sa.update(oauth_clients)
                .where(oauth_clients.c.client_id == client_id)
                .values(last_used_at=now)
            )

    async def delete_unused_clients(self, registered_before: datetime) -> int:
        """Delete never-used DCR clients registered before the cutoff."""
        c = oauth_clients.c
        async with self._storage.connect(write=True) as conn:
            result = await conn.execute(
                sa.select(c.client_id).where(
                    c.source == "dcr", c.last_used_at.is_(None), c.created_at < registered_before
                )
            )
            stale = [row[0] for row in result]
            return await self._delete_clients(conn, stale)

    # --- authorization codes ----------------------------------------------

    async def add_authorization_code(self, code: AuthorizationCode) -> None:
        """Store a code."""
        async with self._storage.connect(write=True) as conn:
            await conn.execute(sa.insert(oauth_codes).values(_code_to_row(code)))

    async def consume_authorization_code(self, code_hash: str, now: datetime) -> CodeConsumption:
        """Mark the code used with one conditional UPDATE; report reuse."""
        c = oauth_codes.c
        async with self._storage.connect(write=True) as conn:
            result = await conn.execute(
                sa.update(oauth_codes)
                .where(c.code_hash == code_hash, c.used_at.is_(None))
                .values(used_at=now)
            )
            consumed = bool(result.rowcount)
            row = (
                (await conn.execute(sa.select(oauth_codes).where(c.code_hash == code_hash)))
                .mappings()
                .first()
            )
        if row is None:
            return CodeConsumption(status=CodeStatus.UNKNOWN)
        status = CodeStatus.CONSUMED if consumed else CodeStatus.REUSED
        return CodeConsumption(status=status, code=_code_from_row(row))

    # --- tokens -----------------------------------------------------------

    async def add_token(self, token: OAuthToken) -> None:
        """Store a token record."""
        async with self._storage.connect(write=True) as conn:
            await conn.execute(sa.insert(oauth_tokens).values(_token_to_row(token)))

    async def _token_by(self, statement: sa.Select[Any], token_hash: str) -> OAuthToken | None:
        async with self._storage.read() as conn:
            result = await conn.execute(statement, {"token_hash": token_hash})
            row = result.mappings().first()
        return _token_from_row(row) if row else None

    async def get_token_by_access_hash(self, access_hash: str) -> OAuthToken | None:
        """Return the record holding that access token, or None."""
        return await self._token_by(_TOKEN_BY_ACCESS_HASH, access_hash)

    async def get_token_by_refresh_hash(self, refresh_hash: str) -> OAuthToken | None:
        """Return the record holding that refresh token, or None."""
        return await self._token_by(_TOKEN_BY_REFRESH_HASH, refresh_hash)

    async def rotate_refresh_token(
        self,
        refresh_hash: str,
        new_token: OAuthToken,
        *,
        now: datetime,
        grace: timedelta,
    ) -> RefreshRotation:
        """Exchange a refresh token under a row lock (SQLite: the write lock)."""
        t = oauth_tokens.c
        async with self._storage.connect(write=True) as conn:
            query = sa.select(oauth_tokens).where(t.refresh_token_hash == refresh_hash)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = (await conn.execute(query)).mappings().first()
            old = _token_from_row(row) if row else None
            if (
                old is None
                or old.revoked_at is not None
                or (old.refresh_expires_at is not None and now >= old.refresh_expires_at)
            ):
                return RefreshRotation(status=RotationStatus.INVALID, previous=old)
            if old.rotated_at is not None and now - old.rotated_at > grace:
                await conn.execute(
                    sa.update(oauth_tokens)
                    .where(t.family_id == old.family_id, t.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
                return RefreshRotation(status=RotationStatus.REUSED, previous=old)
            if old.rotated_at is None:
                await conn.execute(
                    sa.update(oauth_tokens).where(t.token_id == old.token_id).values(rotated_at=now)
                )
            row_new = _token_to_row(new_token)
            row_new["family_id"] = old.family_id
            await conn.execute(sa.insert(oauth_tokens).values(row_new))
        return RefreshRotation(status=RotationStatus.ROTATED, previous=old)

    async def revoke_token_family(self, family_id: UUID, now: datetime) -> int:
        """Revoke the family."""
        t = oauth_tokens.c
        async with self._storage.connect(write=True) as conn:
            result = await conn.execute(
                sa.update(oauth_tokens)
                .where(t.family_id == family_id, t.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            return int(result.rowcount)

    async def list_tokens(self, account_id: UUID, now: datetime) -> list[OAuthToken]:
        """Return the account's live records, newest first."""
        t = oauth_tokens.c
        async with self._storage.connect() as conn:
            result = await conn.execute(
                sa.select(oauth_tokens)
                .where(t.account_id == account_id, t.revoked_at.is_(None), _token_alive(now))
                .order_by(t.issued_at.desc(), t.token_id.desc())
            )
            return [_token_from_row(row) for row in result.mappings()]

    async def revoke_client_tokens(self, account_id: UUID, client_id: str, now: datetime) -> int:
        """Revoke the account's tokens for the client."""
        t = oauth_tokens.c
        async with self._storage.connect(write=True) as conn:
            result = await conn.execute(
                sa.update(oauth_tokens)
                .where(t.account_id == account_id, t.client_id == client_id, t.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            return int(result.rowcount)

    async def delete_expired(self, now: datetime) -> int:
        """Delete expired codes and sessions, and dead tokens."""
        async with self._storage.connect(write=True) as conn:
            codes = await conn.execute(
                sa.delete(oauth_codes).where(oauth_codes.c.expires_at <= now)
            )
            tokens = await conn.execute(sa.delete(oauth_tokens).where(~_token_alive(now)))
            sessions = await conn.execute(
                sa.delete(web_sessions).where(web_sessions.c.expires_at <= now)
            )
            return int(codes.rowcount) + int(tokens.rowcount) + int(sessions.rowcount)

    # --- web sessions -----------------------------------------------------

    async def add_session(self, session: WebSession) -> None:
        """Store a session; ConflictError on a duplicate hash."""
        row = {f: getattr(session, f) for f in session.__struct_fields__}
        async with self._storage.connect(write=True) as conn:
            await conn.execute(sa.insert(web_sessions).values(row))

    async def get_session(self, session_hash: str) -> WebSession | None:
        """Return the session with that hash, or None."""
        async with self._storage.read() as conn:
            result = await conn.execute(_SESSION_BY_HASH, {"session_hash": session_hash})
            row = result.mappings().first()
        return WebSession(**row) if row else None

    async def end_session(self, session_hash: str) -> bool:
        """Delete the session."""
        async with self._storage.connect(write=True) as conn:
            result = await conn.execute(
                sa.delete(web_sessions).where(web_sessions.c.session_hash == session_hash)
            )
            return bool(result.rowcount)

    async def extend_session(self, session_hash: str, expires_at: datetime) -> bool:
        """Move the session's expiry."""
        async with self._storage.connect(write=True) as conn:
            result = await conn.execute(
                sa.update(web_sessions)
                .where(web_sessions.c.session_hash == session_hash)
                .values(expires_at=expires_at)
            )
            return bool(result.rowcount)

    async def end_account_sessions(self, account_id: UUID) -> int:
        """Delete the account's sessions."""
        async with self._storage.connect(write=True) as conn:
            result = await conn.execute(
                sa.delete(web_sessions).where(web_sessions.c.account_id == account_id)
            )
            return int(result.rowcount)

    # --- rate limits ------------------------------------------------------

    async def hit_rate_limit(
        self, bucket: str, *, now: datetime, window: timedelta, limit: int
    ) -> float | None:
        """Count a hit with one upsert; the counter restarts when the window moves on."""
        start = rate_window_start(now, window)
        r = rate_limits.c
        async with self._storage.connect(write=True) as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            insert = dialect.insert(rate_limits).values(bucket=bucket, window_start=start, hits=1)
            same_window = r.window_start == sa.bindparam("start", start, type_=UTCDateTime())
            upsert = insert.on_conflict_do_update(
                index_elements=[r.bucket],
                set_={
                    "hits": sa.case((same_window, r.hits + 1), else_=1),
                    "window_start": start,
                },
            ).returning(r.hits)
            hits = (await conn.execute(upsert)).scalar_one()
        if hits <= limit:
            return None
        return max((start + window - now).total_seconds(), 0.0)
