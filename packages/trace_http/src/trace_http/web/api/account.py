"""The caller's account, its API keys, and export/import: ``/api/v1/account``, ``/api/v1/keys``.

Scopes are checked below the transport: the facade's ``own_account``,
``update_own_account``, ``export_own_account`` and ``import_into_own_account``
check them in core, and key listing (read) and creation and revocation (full)
go through ``Trace.require_scope`` before the key service is asked.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import anyio.to_thread
from litestar import Controller, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from trace_core.errors import InvalidInputError, PermissionDeniedError
from trace_core.model import Principal, Scope
from trace_core.service import Trace
from trace_core.transfer import ExportDocument, encode_document
from trace_http.web.api._common import ERRORS
from trace_http.web.api._types import (
    AccountChanges,
    AccountOut,
    ApiKeyOut,
    CreatedApiKeyOut,
    ImportOut,
    NewApiKey,
    PasswordChange,
)
from trace_oauth import ApiKeyService, hash_password, verify_password

__all__ = ["AccountController", "KeysController"]

MAX_IMPORT_BYTES = 512 * 1024 * 1024
"""The largest import document accepted (its attachments travel inside it as base64)."""


class AccountController(Controller):
    """``/api/v1/account``: read, rename, password, export, import."""

    path = "/account"
    tags = ["account"]

    @get("/", responses=ERRORS, summary="Get my account")
    async def get_account(
        self, trace: NamedDependency[Trace], principal: NamedDependency[Principal]
    ) -> AccountOut:
        """Return the caller's account."""
        return AccountOut.of(await trace.own_account(principal))

    @patch("/", responses=ERRORS, summary="Change my account")
    async def update_account(
        self,
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        data: JSONBody[AccountChanges],
    ) -> AccountOut:
        """Set the account's name (null clears) and/or its time zone (all or nothing)."""
        account = await trace.update_own_account(
            principal, name=data.name, time_zone=data.time_zone
        )
        return AccountOut.of(account)

    @put("/password", responses=ERRORS, summary="Set my password", status_code=200)
    async def set_password(
        self,
        trace: NamedDependency[Trace],
        credentials: NamedDependency[Any],
        principal: NamedDependency[Principal],
        data: JSONBody[PasswordChange],
    ) -> AccountOut:
        """Set a new password; every sign-in session of the account ends."""
        trace.require_scope(principal, Scope.FULL, "set_password")
        account = await trace.own_account(principal)
        if account.password_hash is not None:
            current = data.current_password or ""
            ok = await anyio.to_thread.run_sync(verify_password, account.password_hash, current)
            if not ok:
                raise PermissionDeniedError(
                    "current_password: does not match the account's password",
                    field="current_password",
                )
        if len(data.new_password) > 1024:
            raise InvalidInputError("new_password", "is longer than 1,024 characters")
        new_hash = await anyio.to_thread.run_sync(hash_password, data.new_password)
        account = await trace.update_own_account(principal, password_hash=new_hash)
        await credentials.end_account_sessions(principal.account_id)
        return AccountOut.of(account)

    @get("/export", responses=ERRORS, summary="Export my account")
    async def export(
        self, trace: NamedDependency[Trace], principal: NamedDependency[Principal]
    ) -> Response[ExportDocument]:
        """Everything the account holds (with images as base64), as one JSON document."""
        document = await trace.export_own_account(principal)
        return Response(
            content=encode_document(document),  # type: ignore[arg-type]
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="trace-export.json"'},
        )

    @post(
        "/import",
        responses=ERRORS,
        summary="Import into my account",
        status_code=200,
        request_max_body_size=MAX_IMPORT_BYTES,
    )
    async def import_(
        self,
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        data: JSONBody[ExportDocument],
    ) -> ImportOut:
        """Import an export document: all of it, or nothing (409 when an id exists)."""
        summary = await trace.import_into_own_account(principal, data)
        return ImportOut(
            streams=summary.streams,
            entries=summary.entries,
            versions=summary.versions,
            attachments=summary.attachments,
        )


class KeysController(Controller):
    """``/api/v1/keys``: the caller's API keys."""

    path = "/keys"
    tags = ["keys"]

    @get("/", responses=ERRORS, summary="List my API keys")
    async def list_keys(
        self,
        trace: NamedDependency[Trace],
        api_keys: NamedDependency[ApiKeyService],
        principal: NamedDependency[Principal],
    ) -> list[ApiKeyOut]:
        """Return the account's keys, revoked ones too, newest first."""
        trace.require_scope(principal, Scope.READ, "list_api_keys")
        return [ApiKeyOut.of(k) for k in await api_keys.list_keys(principal.account_id)]

    @post("/", responses=ERRORS, summary="Create an API key")
    async def create_key(
        self,
        trace: NamedDependency[Trace],
        api_keys: NamedDependency[ApiKeyService],
        principal: NamedDependency[Principal],
        data: JSONBody[NewApiKey],
    ) -> Response[CreatedApiKeyOut]:
        """Create a key; its secret is in this answer only."""
        trace.require_scope(principal, Scope.FULL, "create_api_key")
        created = await api_keys.create(principal.account_id, data.name, data.scope)
        return Response(
            CreatedApiKeyOut(key=ApiKeyOut.of(created.key), secret=created.plaintext),
            status_code=201,
            headers={"Cache-Control": "no-store"},
        )

    @delete("/{key_id:uuid}", responses=ERRORS, summary="Revoke an API key", status_code=200)
    async def revoke_key(
        self,
        trace: NamedDependency[Trace],
        api_keys: NamedDependency[ApiKeyService],
        principal: NamedDependency[Principal],
        key_id: FromPath[UUID],
    ) -> ApiKeyOut:
        """Revoke a key (revoking a revoked key is not an error)."""
        trace.require_scope(principal, Scope.FULL, "revoke_api_key")
        return ApiKeyOut.of(await api_keys.revoke(principal.account_id, key_id))
