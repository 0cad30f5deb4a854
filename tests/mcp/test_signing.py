"""Attachment URL signing and the generated secret file."""

from __future__ import annotations

import stat
from pathlib import Path
from uuid import uuid4

import pytest

from trace_core.errors import PermissionDeniedError
from trace_core.testing.memory import FixedClock
from trace_mcp import AttachmentUrlSigner, load_or_create_secret


def test_secret_is_created_once_owner_only_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "attachment-url.key"

    first = load_or_create_secret(path)
    second = load_or_create_secret(path)

    assert first == second
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_signed_url_verifies_until_it_expires() -> None:
    clock = FixedClock()
    signer = AttachmentUrlSigner(b"x" * 32, "https://h/", clock=clock)
    account, attachment = uuid4(), uuid4()

    url = signer.sign(account, attachment).url
    query = dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&"))

    assert url.startswith(f"https://h/attachments/{attachment}?")
    assert signer.verify(str(attachment), **query) == (account, attachment)
    clock.advance(seconds=3599)
    assert signer.verify(str(attachment), **query) == (account, attachment)
    clock.advance(seconds=1)
    with pytest.raises(PermissionDeniedError) as expired:
        signer.verify(str(attachment), **query)
    assert expired.value.details["reason"] == "expired"


def test_a_url_signed_with_another_secret_is_refused() -> None:
    clock = FixedClock()
    account, attachment = uuid4(), uuid4()
    url = AttachmentUrlSigner(b"y" * 32, "https://h", clock=clock).sign(account, attachment).url
    query = dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&"))

    with pytest.raises(PermissionDeniedError):
        AttachmentUrlSigner(b"x" * 32, "https://h", clock=clock).verify(str(attachment), **query)


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        AttachmentUrlSigner(b"short", "https://h")
