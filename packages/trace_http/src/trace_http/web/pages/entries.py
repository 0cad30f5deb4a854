"""An entry's pages: read, new, edit, images, history.

``/entries/{id}`` is the URL the MCP ``search`` and ``fetch`` tools hand out.

A save carries the version the form was opened at (``expected_version``): when
someone saved in between, nothing is overwritten; the conflict page shows the
person's text beside the saved one and lets them choose.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import FromPath

from trace_core.errors import InvalidInputError, NotFoundError, VersionConflictError
from trace_core.model import Entry, EntryDetail, Stream
from trace_http.web.oauth._pages import Pages
from trace_http.web.pages._forms import entry_draft, entry_patch
from trace_http.web.pages._render import (
    entry_fields_diff,
    line_diff,
    rating_value,
    render_markdown,
    show_rating,
)
from trace_http.web.pages._web import Signed, Web

__all__ = ["UPLOAD_MAX_BODY", "EntriesController"]

UPLOAD_MAX_BODY = 64 * 1024 * 1024
"""The most an image upload request may carry; core refuses files over its own limit."""


def _form_values(entry: Entry | None, stream: Stream | None) -> dict[str, str]:
    if entry is None:
        return {}
    return {
        "title": entry.title or "",
        "content": entry.content,
        "stream_id": str(entry.stream_id or ""),
        "tags": ", ".join(entry.tags),
        "status": entry.status or "",
        "type": entry.type or "",
        "entry_date": entry.entry_date.isoformat(),
        "due_date": entry.due_date.isoformat() if entry.due_date else "",
        "priority": str(entry.priority or ""),
        "rating": rating_value(entry, stream),
        "is_pinned": "on" if entry.is_pinned else "",
    }


class EntriesController(Controller):
    """``/entries/...``: behind sign-in; every POST checks the CSRF token."""

    path = "/entries"
    include_in_schema = False

    # --- reading -------------------------------------------------------------

    async def _detail(
        self, web: Web, signed: Signed, entry_id: uuid.UUID
    ) -> EntryDetail | Response[Any]:
        try:
            return await web.trace.get_entry(signed.principal, entry_id)
        except NotFoundError:
            return web.not_found(signed, "entry", f"/entries/{entry_id}")

    async def _entry_page(
        self,
        web: Web,
        signed: Signed,
        detail: EntryDetail,
        *,
        status: int = 200,
        error: str = "",
        notice: str = "",
    ) -> Response[Any]:
        entry, stream = detail.entry, detail.stream
        images = [
            (a, web.image_url(signed.account.account_id, a.attachment_id))
            for a in detail.attachments
        ]
        return web.render(
            "entry.html",
            signed,
            status=status,
            entry=entry,
            stream=stream,
            body=render_markdown(entry.content),
            rating=show_rating(entry, stream),
            images=images,
            error=error,
            notice=notice,
            max_image_mb=web.trace.limits.max_attachment_bytes // (1024 * 1024),
        )

    @get("/{entry_id:uuid}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        entry_id: FromPath[uuid.UUID],
        web: NamedDependency[Web],
    ) -> Response[Any]:
        """Show the entry; signed out: the sign-in page, then back here."""
        signed = await web.who(request)
        if signed is None:
            return web.to_sign_in(request)
        detail = await self._detail(web, signed, entry_id)
        if isinstance(detail, Response):
            return detail
        return await self._entry_page(
            web, signed, detail, notice=request.query_params.get("saved", "") and "Saved."
        )

    # --- new and edit --------------------------------------------------------

    async def _form_page(
        self,
        web: Web,
        signed: Signed,
        *,
        entry: Entry | None,
        values: dict[str, str],
        status: int = 200,
        error: str = "",
        field: str = "",
        preview: bool = False,
    ) -> Response[Any]:
        streams = await web.streams(signed)
        chosen = next((s for s in streams if str(s.stream_id) == values.get("stream_id")), None)
        return web.render(
            "entry_form.html",
            signed,
            status=status,
            entry=entry,
            values=values,
            streams=streams,
            stream=chosen,
            error=error,
            field=field,
            preview=render_markdown(values.get("content", "")) if preview else None,
        )

    @get("/new")
    async def new(
        self, request: Request[Any, Any, Any], web: NamedDependency[Web]
    ) -> Response[Any]:
        """Show the new-entry form (``?stream=ID``: that stream, its template)."""
        signed = await web.who(request)
        if signed is None:
            return web.to_sign_in(request)
        values = {"stream_id": request.query_params.get("stream", "")}
        streams = await web.streams(signed)
        for s in streams:
            if str(s.stream_id) == values["stream_id"]:
                values["content"] = s.entry_settings.content_template or ""
                values["status"] = s.entry_settings.default_status or ""
        return await self._form_page(web, signed, entry=None, values=values)

    @post("/", status_code=303)
    async def create(
        self, request: Request[Any, Any, Any], web: NamedDependency[Web]
    ) -> Response[Any]:
        """Create the entry (or show the preview) and open it."""
        posted = await web.posted(request)
        if isinstance(posted, Response):
            return posted
        signed, form = posted
        if form.get("action") == "preview":
            return await self._form_page(web, signed, entry=None, values=form, preview=True)
        try:
            entry = await web.trace.create_entry(signed.principal, entry_draft(form))
        except (InvalidInputError, NotFoundError) as exc:
            return await self._form_page(
                web,
                signed,
                entry=None,
                values=form,
                status=400,
                error=exc.message,
                field=_field(exc),
            )
        return Pages.redirect(f"/entries/{entry.entry_id}")

    @get("/{entry_id:uuid}/edit")
    async def edit(
        self,
        request: Request[Any, Any, Any],
        entry_id: FromPath[uuid.UUID],
        web: NamedDependency[Web],
    ) -> Response[Any]:
        """Show the edit form, carrying the version it was opened at."""
        signed = await web.who(request)
        if signed is None:
            return web.to_sign_in(request)
        detail = await self._detail(web, signed, entry_id)
        if isinstance(detail, Response):
            return detail
        values = _form_values(detail.entry, detail.stream)
        values["expected_version"] = str(detail.entry.version)
        return await self._form_page(web, signed, entry=detail.entry, values=values)

    @post("/{entry_id:uuid}/edit", status_code=303)
    async def save(
        self,
        request: Request[Any, Any, Any],
        entry_id: FromPath[uuid.UUID],
        web: NamedDependency[Web],
    ) -> Response[Any]:
        """Save over the version the form was opened at; a newer one: the conflict page."""
        posted = await web.posted(request)
        if isinstance(posted, Response):
            return posted
        signed, form = posted
        detail = await self._detail(web, signed, entry_id)
        if isinstance(detail, Response):
            return detail
        if form.get("action") == "preview":
            return await self._form_page(web, signed, entry=detail.entry, values=form, preview=True)
        try:
            expected = int(form.get("expected_version", ""))
        except ValueError:
            expected = None
        if expected is None:
            return await self._form_page(
                web,
                signed,
                entry=detail.entry,
                values=form,
                status=400,
                error="The form lost the version it was opened at: reload the page.",
                field="expected_version",
            )
        try:
            await web.trace.update_entry(
                signed.principal, entry_id, entry_patch(form), expected_version=expected
            )
        except VersionConflictError:
            current = (await web.trace.get_entry(signed.principal, entry_id)).entry
            return web.render(
                "conflict.html",
                signed,
                status=409,
                entry=current,
                values={**form, "expected_version": str(current.version)},
                saved_body=render_markdown(current.content),
                diff=line_diff(current.content, form.get("content", "")),
                fields=entry_fields_diff(current, _as_entry(current, form)),
            )
        except (InvalidInputError, NotFoundError) as exc:
            return await self._form_page(
                web,
                signed,
                entry=detail.entry,
                values=form,
                status=400,
                error=exc.message,
                field=_field(exc),
            )
        return Pages.redirect(f"/entries/{entry_id}")

    @post("/preview", status_code=200)
    async def preview(
        self, request: Request[Any, Any, Any], web: NamedDependency[Web]
    ) -> Response[Any]:
        """Render the form's Markdown (htmx asks while the person types)."""
        signed = await web.who(request)
        if signed is None:
            return Response(content="", status_code=401)
        form = await web.form(request, signed)
        if isinstance(form, Response):
            return form
        return web.render("_preview.html", signed, preview=render_markdown(form.get("content", "")))

    # --- delete --------------------------------------------------------------

    @post("/{entry_id:uuid}/delete", status_code=303)
    async def delete(
        self,
        request: Request[Any, Any, Any],
        entry_id: FromPath[uuid.UUID],
        web: NamedDependency[Web],
    ) -> Response[Any]:
        """Move the entry to the trash."""
        posted = await web.posted(request)
        if isinstance(posted, Response):
            return posted
        signed, _form = posted
        try:
            await web.trace.delete_entry(signed.principal, entry_id)
        except NotFoundError:
            return web.not_found(signed, "entry")
        return Pages.redirect("/trash")

    # --- images --------------------------------------------------------------

    @post("/{entry_id:uuid}/images", status_code=303, request_max_body_size=UPLOAD_MAX_BODY)
    async def upload(
        self,
        request: Request[Any, Any, Any],
        entry_id: FromPath[uuid.UUID],
        web: NamedDependency[Web],
    ) -> Response[Any]:
        """Attach the chosen, dropped or pasted images; a refused file stores nothing."""
        signed = await web.who(request)
        if signed is None:
            return web.to_sign_in(request)
        try:
            form = await request.form()
        except RequestEntityTooLarge:
            # Nothing was stored; say so on the entry's page (its owner's only).
            detail = await self._detail(web, signed, entry_id)
            if isinstance(detail, Response):
                return detail
            limit = UPLOAD_MAX_BODY // 1_048_576
            return await self._entry_page(
                web, signed, detail, status=413, error=f"file: the upload is over {limit} MB."
            )
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        if not web.pages.csrf_ok(request, fields, signed.session):
            return web.pages.session_expired()
        files = (
            [f for f in form.getall("file") if isinstance(f, UploadFile)] if "file" in form else []
        )
        detail = await self._detail(web, signed, entry_id)
        if isinstance(detail, Response):
            return detail
        files = [f for f in files if f.filename or f.content_type]
        if not files:
            return await self._entry_page(
                web, signed, detail, status=400, error="file: choose an image to upload."
            )
        for upload in files:
            data = await upload.read()
            try:
                await web.trace.add_attachment(
                    signed.principal, entry_id, data, filename=upload.filename or None
                )
            except InvalidInputError as exc:
                detail = await web.trace.get_entry(signed.principal, entry_id)
                name = upload.filename or "the file"
                return await self._entry_page(
                    web, signed, detail, status=400, error=f"{name}: {exc.message}"
                )
        return Pages.redirect(f"/entries/{entry_id}#images")

    @post("/{entry_id:uuid}/images/{attachment_id:uuid}/delete", status_code=303)
    async def delete_image(
        self,
        request: Request[Any, Any, Any],
        entry_id: FromPath[uuid.UUID],
        attachment_id: FromPath[uuid.UUID],
        web: NamedDependency[Web],
    ) -> Response[Any]:
        """Remove one image from the entry (kept for the trash period, in the history)."""
        posted = await web.posted(request)
        if isinstance(posted, Response):
            return posted
        signed, _form = posted
        try:
            attachment = await web.trace.get_attachment(signed.principal, attachment_id)
            if attachment.entry_id != entry_id:
                raise NotFoundError("attachment", attachment_id)
            await web.trace.delete_attachment(signed.principal, attachment_id)
        except NotFoundError:
            return web.not_found(signed, "image")
        return Pages.redirect(f"/entries/{entry_id}#images")

    # --- history -------------------------------------------------------------

    @get("/{entry_id:uuid}/history")
    async def history(
        self,
        request: Request[Any, Any, Any],
        entry_id: FromPath[uuid.UUID],
        web: NamedDependency[Web],
    ) -> Response[Any]:
        """Every version, newest first, each with what it changed."""
        signed = await web.who(request)
        if signed is None:
            return web.to_sign_in(request)
        try:
            versions = await web.trace.entry_history(signed.principal, entry_id)
        except NotFoundError:
            return web.not_found(signed, "entry")
        rows = []
        for i, version in enumerate(versions):
            before = versions[i + 1].snapshot if i + 1 < len(versions) else None
            rows.append(
                {
                    "version": version,
                    "fields": entry_fields_diff(before, version.snapshot),
                    "diff": line_diff(before.content if before else "", version.snapshot.content),
                }
            )
        current = versions[0].snapshot if versions else None
        return web.render("history.html", signed, entry=current, rows=rows)

    @post("/{entry_id:uuid}/history/{version:int}/restore", status_code=303)
    async def restore_version(
        self,
        request: Request[Any, Any, Any],
        entry_id: FromPath[uuid.UUID],
        version: FromPath[int],
        web: NamedDependency[Web],
    ) -> Response[Any]:
        """Bring the entry back to ``version``, as a new version on top."""
        posted = await web.posted(request)
        if isinstance(posted, Response):
            return posted
        signed, form = posted
        try:
            expected = (
                int(form.get("expected_version", "")) if form.get("expected_version") else None
            )
            await web.trace.restore_version(
                signed.principal, entry_id, version, expected_version=expected
            )
        except NotFoundError:
            return web.not_found(signed, "entry")
        except VersionConflictError:
            return web.render(
                "message.html",
                signed,
                status=409,
                heading="The entry changed",
                message="Someone saved this entry after you opened its history. "
                "Look at the history again and choose the version to restore.",
                link=f"/entries/{entry_id}/history",
            )
        except (InvalidInputError, ValueError) as exc:
            message = exc.message if isinstance(exc, InvalidInputError) else "bad version"
            return web.render(
                "message.html",
                signed,
                status=400,
                heading="Cannot restore",
                message=message,
                link=f"/entries/{entry_id}/history",
            )
        return Pages.redirect(f"/entries/{entry_id}")


def _field(exc: InvalidInputError | NotFoundError) -> str:
    return getattr(exc, "field", None) or ""


def _as_entry(current: Entry, form: dict[str, str]) -> Entry:
    """Return what the person's form would make of the entry (to show differences)."""
    import msgspec

    tags = tuple(t.strip() for t in form.get("tags", "").split(",") if t.strip())
    return msgspec.structs.replace(
        current,
        title=form.get("title") or None,
        content=form.get("content", ""),
        tags=tags,
        status=form.get("status") or None,
        type=form.get("type") or None,
    )
