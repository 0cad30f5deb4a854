"""Accounts: administrative use cases that take no principal."""

from __future__ import annotations

import uuid
from uuid import UUID

import msgspec

from trace_core.errors import ConflictError, InvalidInputError, NotFoundError, quote
from trace_core.model import UNSET, Account, Principal, Scope, UnsetType, Via
from trace_core.service._base import FacadeBase
from trace_core.service._text import CONTROL, EMAIL, clean_text


class AccountUseCases(FacadeBase):
    """Create, find and change accounts; make a principal for one."""

    async def create_account(
        self,
        email: str,
        *,
        name: str | None = None,
        password_hash: str | None = None,
        plan: str | None = None,
    ) -> Account:
        """Create an account (operator action: CLI, sign-up page).

        Raises:
            InvalidInputError: the email is not an email address.
            ConflictError: an account with that email exists.

        """
        email = email.strip().lower() if isinstance(email, str) and len(email) <= 254 else email
        if (
            not isinstance(email, str)
            or len(email) > 254
            or not EMAIL.match(email)
            or CONTROL.search(email)
        ):
            raise InvalidInputError("email", f"{quote(email)} is not an email address")
        account = Account(
            account_id=uuid.uuid4(),
            email=email,
            name=clean_text("name", name, self.limits.max_stream_name_chars),
            password_hash=password_hash,
            plan=clean_text("plan", plan, self.limits.max_choice_chars),
            created_at=self.clock.now(),
        )
        async with self.storage.unit_of_work(write=True) as uow:
            if await uow.accounts.get_by_email(email) is not None:
                raise ConflictError(f"an account with email {email} exists", field="email")
            await uow.accounts.add(account)
        return account

    async def get_account(self, account_id: UUID) -> Account:
        """Return an account by id.

        Raises:
            NotFoundError: no such account.

        """
        async with self.storage.unit_of_work() as uow:
            account = await uow.accounts.get(account_id)
        if account is None:
            raise NotFoundError("account", account_id)
        return account

    async def get_account_by_email(self, email: str) -> Account:
        """Return an account by email (case-insensitive).

        Raises:
            NotFoundError: no such account.

        """
        async with self.storage.unit_of_work() as uow:
            account = await uow.accounts.get_by_email(email.strip().lower())
        if account is None:
            raise NotFoundError("account", email)
        return account

    async def list_accounts(self) -> list[Account]:
        """Return every account, oldest first."""
        async with self.storage.unit_of_work() as uow:
            return await uow.accounts.list()

    async def update_account(
        self,
        account_id: UUID,
        *,
        name: str | UnsetType | None = UNSET,
        password_hash: str | UnsetType | None = UNSET,
        plan: str | UnsetType | None = UNSET,
        is_active: bool | UnsetType = UNSET,
    ) -> Account:
        """Change an account's name, password hash, plan or active flag.

        Raises:
            NotFoundError: no such account.
            InvalidInputError: the name or plan is too long or holds control characters.

        """
        changes: dict[str, object] = {}
        if not isinstance(name, UnsetType):
            changes["name"] = clean_text("name", name, self.limits.max_stream_name_chars)
        if not isinstance(password_hash, UnsetType):
            changes["password_hash"] = password_hash
        if not isinstance(plan, UnsetType):
            # A plan is a name the operator picks (``auth.plans_with_integrations``):
            # one line, trimmed; blank clears it.
            changes["plan"] = clean_text("plan", plan, self.limits.max_choice_chars)
        if not isinstance(is_active, UnsetType):
            changes["is_active"] = is_active
        async with self.storage.unit_of_work(write=True) as uow:
            account = await uow.accounts.get(account_id)
            if account is None:
                raise NotFoundError("account", account_id)
            account = msgspec.structs.replace(account, **changes)
            await uow.accounts.update(account)
        return account

    @staticmethod
    def principal_for(
        account: Account,
        *,
        actor: str,
        via: Via = "cli",
        scopes: frozenset[Scope] = frozenset({Scope.FULL}),
        credential_id: str | None = None,
    ) -> Principal:
        """Return a Principal acting for ``account`` (used by trusted local transports)."""
        return Principal(
            account_id=account.account_id,
            scopes=scopes,
            actor=actor,
            via=via,
            credential_id=credential_id,
        )
