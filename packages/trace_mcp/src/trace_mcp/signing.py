"""HMAC-signed, expiring attachment download URLs.

``get_attachment_url`` hands a model a URL it (or the person) can open without a
bearer token for one hour. The URL names the account and the attachment and the
expiry time, and carries an HMAC-SHA256 over exactly those three, keyed with a
server secret; the download route checks the signature (in constant time) and the
expiry before it reads anything, and then reads the attachment *as that account*,
so tenancy is still enforced by core.

When the blob store serves URLs of its own (S3 with presigned downloads),
:func:`download_link` hands out the store's presigned URL instead, with the same
lifetime; the facade makes it only after checking the caller's account.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode
from uuid import UUID

import msgspec

from trace_core.errors import PermissionDeniedError, UnavailableError
from trace_core.keys import load_or_create_secret
from trace_core.ports import Clock
from trace_core.service import SystemClock

if TYPE_CHECKING:
    from trace_core.model import Attachment, Principal
    from trace_core.service import Trace

__all__ = [
    "ATTACHMENT_PATH",
    "AttachmentUrlSigner",
    "SignedUrl",
    "download_link",
    "load_or_create_secret",
]

ATTACHMENT_PATH = "/attachments/{attachment_id}"
"""Path of the signed download route, relative to the public origin."""

DEFAULT_TTL_SECONDS = 3600


class SignedUrl(msgspec.Struct, frozen=True, kw_only=True):
    """A signed download URL and when it stops working."""

    url: str
    expires_at: datetime


class AttachmentUrlSigner:
    """Signs and verifies attachment download URLs.

    Args:
        secret: the HMAC key (at least 32 bytes).
        public_url: the server's public origin (``https://trace.example.com``).
        ttl_seconds: how long a URL stays valid (default one hour).
        clock: the time source (tests move it).

    """

    def __init__(
        self,
        secret: bytes,
        public_url: str,
        *,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        clock: Clock | None = None,
    ) -> None:
        if len(secret) < 32:
            raise ValueError("the attachment URL secret must be at least 32 bytes")
        self._secret = secret
        self.public_url = public_url.rstrip("/")
        self.ttl_seconds = ttl_seconds
        self._clock: Clock = clock or SystemClock()

    def _signature(self, account_id: str, attachment_id: str, expires: int) -> str:
        message = f"attachment:{account_id}:{attachment_id}:{expires}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, account_id: UUID, attachment_id: UUID) -> SignedUrl:
        """Return a URL for the attachment that works for ``ttl_seconds``."""
        expires = int(self._clock.now().timestamp()) + self.ttl_seconds
        query = urlencode(
            {
                "account": str(account_id),
                "expires": str(expires),
                "sig": self._signature(str(account_id), str(attachment_id), expires),
            }
        )
        path = ATTACHMENT_PATH.format(attachment_id=attachment_id)
        return SignedUrl(
            url=f"{self.public_url}{path}?{query}",
            expires_at=datetime.fromtimestamp(expires, tz=UTC),
        )

    def verify(
        self, attachment_id: str, *, account: str | None, expires: str | None, sig: str | None
    ) -> tuple[UUID, UUID]:
        """Check a signed URL's parameters; return ``(account_id, attachment_id)``.

        Raises:
            PermissionDeniedError: a parameter is missing or malformed, the
                signature does not match, or the URL has expired.

        """
        if not account or not expires or not sig:
            raise PermissionDeniedError("this download link is incomplete", reason="invalid")
        try:
            expires_at = int(expires)
            account_uuid = UUID(account)
            attachment_uuid = UUID(attachment_id)
        except ValueError:
            raise PermissionDeniedError(
                "this download link is malformed", reason="invalid"
            ) from None
        expected = self._signature(account, attachment_id, expires_at)
        if not hmac.compare_digest(expected.encode(), sig.encode()):
            raise PermissionDeniedError("this download link is not valid", reason="invalid")
        if self._clock.now().timestamp() >= expires_at:
            raise PermissionDeniedError(
                "this download link has expired; ask for a new one (get_attachment_url)",
                reason="expired",
            )
        return account_uuid, attachment_uuid


async def download_link(
    trace: Trace,
    principal: Principal,
    attachment_id: UUID,
    signer: AttachmentUrlSigner | None,
) -> tuple[Attachment, SignedUrl]:
    """Return the attachment and a URL that downloads it without a bearer token.

    The blob store's own presigned URL when it serves one, else a link to the
    signed download route; either works for the signer's ``ttl_seconds``.

    Raises:
        NotFoundError: no such attachment on a live entry of the caller's account.
        UnavailableError: the store serves no URLs and no signer is configured.

    """
    ttl = signer.ttl_seconds if signer is not None else DEFAULT_TTL_SECONDS
    attachment, url = await trace.presigned_attachment_url(
        principal, attachment_id, ttl_seconds=ttl
    )
    if url is not None:
        expires = int(trace.clock.now().timestamp()) + ttl
        return attachment, SignedUrl(url=url, expires_at=datetime.fromtimestamp(expires, tz=UTC))
    if signer is None:
        raise UnavailableError("download links are not configured on this server")
    return attachment, signer.sign(attachment.account_id, attachment.attachment_id)
