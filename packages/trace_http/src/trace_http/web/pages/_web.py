"""What every people's page shares: who is signed in, CSRF, rendering with a strict CSP.

The sign-in session and CSRF tokens are the OAuth pages' (:class:`Pages`): the
same cookie, the same per-session token on every form, the same check that a
POST comes from our own origin. A person signed in acts through
:class:`~trace_core.model.Principal` with full scope (``via="web"``); every read
and write goes through the ``Trace`` facade, which scopes it to that account.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote, urlsplit

from litestar import MediaType, Request, Response

from trace_core.errors import TraceError
from trace_core.model import Account, Principal, Scope, Stream
from trace_http.web.oauth._pages import PAGE_HEADERS, Pages, Session, form_of, safe_next
from trace_http.web.pages._render import environment

if TYPE_CHECKING:
    from trace_core.service import Trace
    from trace_http.runtime import Runtime
    from trace_mcp import AttachmentUrlSigner
    from trace_oauth.api_keys import ApiKeyService
    from trace_oauth.server import AuthorizationService

__all__ = ["CSP", "Signed", "Web", "safe_next"]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:{images}; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
"""No inline script or style, nothing from another origin (htmx is served from here).

``{images}`` is the one other origin images may come from: the blob store's,
when it serves its own presigned URLs (S3) that image links redirect to.
"""


class Signed(NamedTuple):
    """The person a request comes from: their account, session and principal."""

    account: Account
    session: Session
    principal: Principal


class Web:
    """The parts the people's pages use, built once per app."""

    def __init__(self, runtime: Runtime, pages: Pages) -> None:
        self.trace: Trace = runtime.trace
        self.pages = pages
        self.oauth: AuthorizationService = runtime.oauth
        self.api_keys: ApiKeyService = runtime.api_keys
        self.signer: AttachmentUrlSigner = runtime.signer
        self.runtime = runtime
        self.env = environment()
        self.csp = CSP.format(images="")
        self._image_origin_known = False

    async def _learn_image_origin(self) -> None:
        """Allow the blob store's origin for images if it serves presigned URLs (once).

        An image link (``/attachments/...``) redirects there, and a page's CSP
        applies to the redirect's target too. Signing is local: no request.
        """
        self._image_origin_known = True
        try:
            url = await self.trace.blobs.presigned_url(
                "csp-origin-probe", ttl_seconds=60, content_type="image/png"
            )
        except TraceError:
            url = None
        if url:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") and parts.netloc:
                self.csp = CSP.format(images=f" {parts.scheme}://{parts.netloc}")

    async def who(self, request: Request[Any, Any, Any]) -> Signed | None:
        """Return the signed-in person, or None."""
        if not self._image_origin_known:
            await self._learn_image_origin()
        signed = await self.pages.signed_in(request, self.oauth)
        if signed is None:
            return None
        account, session = signed
        principal = self.trace.principal_for(
            account, actor="web", via="web", scopes=frozenset({Scope.FULL})
        )
        return Signed(account, session, principal)

    @staticmethod
    def to_sign_in(request: Request[Any, Any, Any]) -> Response[Any]:
        """Send a signed-out browser to the sign-in page, coming back here after."""
        here = request.url.path
        if request.url.query:
            here = f"{here}?{request.url.query}"
        return Pages.redirect(f"/signin?next={quote(here, safe='')}")

    async def form(
        self, request: Request[Any, Any, Any], signed: Signed
    ) -> dict[str, str] | Response[Any]:
        """Return a POSTed form's fields, or the "session expired" answer if CSRF fails."""
        form = dict(await form_of(request))
        if not self.pages.csrf_ok(request, form, signed.session):
            return self.pages.session_expired()
        return form

    async def posted(
        self, request: Request[Any, Any, Any]
    ) -> tuple[Signed, dict[str, str]] | Response[Any]:
        """Return who POSTed and their form's fields, or the answer when they may not.

        Signed out: the sign-in page (coming back here after); a failed CSRF check:
        the "session expired" answer. Every form handler starts here.
        """
        signed = await self.who(request)
        if signed is None:
            return self.to_sign_in(request)
        form = await self.form(request, signed)
        if isinstance(form, Response):
            return form
        return signed, form

    def csrf(self, signed: Signed) -> str:
        """Return the CSRF token every form of this person's pages carries."""
        return self.pages.sessions.csrf_token(session_id=signed.session.session_id)

    def render(
        self,
        template: str,
        signed: Signed | None,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> Response[str]:
        """Render a page with the security headers and a strict CSP."""
        body = self.env.get_template(template).render(
            me=signed.account if signed else None,
            csrf=self.csrf(signed) if signed else "",
            public_url=self.pages.public_url,
            **context,
        )
        return Response(
            content=body,
            status_code=status,
            media_type=MediaType.HTML,
            headers={**PAGE_HEADERS, "Content-Security-Policy": self.csp, **(headers or {})},
        )

    def not_found(
        self, signed: Signed | None, what: str = "page", here: str = "/home"
    ) -> Response[str]:
        """Answer 404 with a page that offers to sign in as someone else (then back ``here``)."""
        return self.render(
            "not_found.html",
            signed,
            status=404,
            what=what,
            sign_in=f"/signin?next={quote(here, safe='')}",
        )

    def image_url(self, account_id: uuid.UUID, attachment_id: uuid.UUID) -> str:
        """Return a signed (expiring) URL for one of the person's images."""
        url = self.signer.sign(account_id, attachment_id).url
        parts = urlsplit(url)
        return f"{parts.path}?{parts.query}"

    async def streams(self, signed: Signed) -> list[Stream]:
        """Return the person's live streams (for navigation and forms)."""
        return await self.trace.list_streams(signed.principal)
