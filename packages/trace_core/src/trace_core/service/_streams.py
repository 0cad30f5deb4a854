"""Streams: create, list, change and archive, with their entry settings."""

from __future__ import annotations

import uuid
from uuid import UUID

import msgspec

from trace_core.errors import ConflictError, InvalidInputError, quote
from trace_core.model import (
    EntrySettings,
    NewStream,
    Principal,
    Scope,
    Stream,
    StreamPatch,
    UnsetType,
)
from trace_core.ports import UnitOfWork
from trace_core.service._base import FacadeBase
from trace_core.service._text import COLOR, ICON, check_controls, check_length, clean_text


class StreamUseCases(FacadeBase):
    """The stream use cases and the checks on a stream's fields and entry settings."""

    def _check_settings(self, settings: EntrySettings) -> EntrySettings:
        if not isinstance(settings, EntrySettings):
            raise InvalidInputError("entry_settings", "must be an object")
        if settings.rating_type not in ("stars", "numeric"):
            raise InvalidInputError(
                "entry_settings.rating_type",
                f"{quote(settings.rating_type)} is not a rating type",
                allowed=["stars", "numeric"],
            )
        cleaned: dict[str, tuple[str, ...]] = {}
        for field in ("types", "statuses"):
            values: list[str] = []
            given = getattr(settings, field)
            if len(given) > self.limits.max_choices:
                raise InvalidInputError(
                    f"entry_settings.{field}",
                    f"has {len(given):,} values; at most {self.limits.max_choices}",
                )
            for value in given:
                text = clean_text(f"entry_settings.{field}", value, self.limits.max_choice_chars)
                if text is None:
                    raise InvalidInputError(f"entry_settings.{field}", "values must not be empty")
                if text not in values:
                    values.append(text)
            cleaned[field] = tuple(values)
        if (
            settings.default_status is not None
            and settings.default_status not in cleaned["statuses"]
        ):
            raise InvalidInputError(
                "entry_settings.default_status",
                f"{quote(settings.default_status)} is not one of the stream's statuses",
                allowed=cleaned["statuses"],
            )
        # Templates are kept as written (a template may end in blank lines).
        for field, value, max_chars, multiline in (
            ("content_template", settings.content_template, self.limits.max_text_chars, True),
            ("title_template", settings.title_template, self.limits.max_title_chars, False),
        ):
            if value is not None:
                check_length(f"entry_settings.{field}", value, max_chars)
                check_controls(f"entry_settings.{field}", value, multiline=multiline)
        return msgspec.structs.replace(settings, **cleaned)

    def _check_stream_fields(
        self, *, name: str, description: str | None, color: str | None, icon: str | None
    ) -> dict[str, str | None]:
        clean_name = clean_text("name", name, self.limits.max_stream_name_chars)
        if clean_name is None:
            raise InvalidInputError("name", "must not be empty")
        if color is not None and not (isinstance(color, str) and COLOR.fullmatch(color)):
            raise InvalidInputError("color", f"{quote(color)} is not a hex color like #3b82f6")
        if icon is not None and not (isinstance(icon, str) and ICON.fullmatch(icon)):
            raise InvalidInputError(
                "icon", f"{quote(icon)} is not an icon identifier (letters, digits, _ . : -)"
            )
        return {
            "name": clean_name,
            "description": clean_text(
                "description", description, self.limits.max_text_chars, multiline=True
            ),
            "color": color,
            "icon": icon,
        }

    @staticmethod
    async def _check_unique_name(
        uow: UnitOfWork, principal: Principal, name: str, exclude: UUID | None = None
    ) -> None:
        for other in await uow.streams.list(principal.account_id, include_archived=True):
            if other.stream_id != exclude and other.name.casefold() == name.casefold():
                raise ConflictError(f"a stream named {other.name!r} exists", field="name")

    async def list_streams(
        self, principal: Principal, *, include_archived: bool = False
    ) -> list[Stream]:
        """Return the caller's streams by name, each with its entry count."""
        self._require(principal, Scope.READ, "list_streams")
        async with self.storage.unit_of_work(account_id=principal.account_id) as uow:
            return await uow.streams.list(principal.account_id, include_archived=include_archived)

    async def get_stream(self, principal: Principal, stream_id: UUID) -> Stream:
        """Return one stream with its settings.

        Raises:
            NotFoundError: no such stream in the caller's account.

        """
        self._require(principal, Scope.READ, "get_stream")
        async with self.storage.unit_of_work(account_id=principal.account_id) as uow:
            return await self._stream(uow, principal, stream_id, counted=True)

    async def create_stream(self, principal: Principal, new: NewStream) -> Stream:
        """Create a stream.

        Raises:
            InvalidInputError: a field is malformed.
            ConflictError: a stream of that name exists (names are unique, case-insensitive).

        """
        self._require(principal, Scope.FULL, "create_stream")
        fields = self._check_stream_fields(
            name=new.name, description=new.description, color=new.color, icon=new.icon
        )
        now = self.clock.now()
        stream = Stream(
            stream_id=uuid.uuid4(),
            account_id=principal.account_id,
            name=fields["name"] or "",
            description=fields["description"],
            color=fields["color"],
            icon=fields["icon"],
            is_private=bool(new.is_private),
            entry_settings=self._check_settings(new.entry_settings),
            created_at=now,
            updated_at=now,
        )
        async with self.storage.unit_of_work(write=True, account_id=principal.account_id) as uow:
            await self._check_unique_name(uow, principal, stream.name)
            await uow.streams.add(stream)
        return stream

    async def update_stream(
        self, principal: Principal, stream_id: UUID, patch: StreamPatch
    ) -> Stream:
        """Change a stream's name, look, privacy, archive flag or entry settings.

        Raises:
            NotFoundError: no such stream in the caller's account.
            InvalidInputError: a field is malformed.
            ConflictError: the new name is taken.

        """
        self._require(principal, Scope.FULL, "update_stream")
        async with self.storage.unit_of_work(write=True, account_id=principal.account_id) as uow:
            stream = await self._stream(uow, principal, stream_id, counted=True)
            fields = self._check_stream_fields(
                name=stream.name if isinstance(patch.name, UnsetType) else patch.name,
                description=stream.description
                if isinstance(patch.description, UnsetType)
                else patch.description,
                color=stream.color if isinstance(patch.color, UnsetType) else patch.color,
                icon=stream.icon if isinstance(patch.icon, UnsetType) else patch.icon,
            )
            if fields["name"] != stream.name:
                await self._check_unique_name(uow, principal, fields["name"] or "", stream_id)
            updated = msgspec.structs.replace(
                stream,
                name=fields["name"] or stream.name,
                description=fields["description"],
                color=fields["color"],
                icon=fields["icon"],
                is_private=stream.is_private
                if isinstance(patch.is_private, UnsetType)
                else bool(patch.is_private),
                is_archived=stream.is_archived
                if isinstance(patch.is_archived, UnsetType)
                else bool(patch.is_archived),
                entry_settings=stream.entry_settings
                if isinstance(patch.entry_settings, UnsetType)
                else self._check_settings(patch.entry_settings),
                updated_at=self.clock.now(),
            )
            await uow.streams.update(updated)
        return updated

    async def archive_stream(
        self, principal: Principal, stream_id: UUID, *, archived: bool = True
    ) -> Stream:
        """Archive (hide from ``list_streams``) or unarchive a stream; its entries stay."""
        return await self.update_stream(principal, stream_id, StreamPatch(is_archived=archived))
