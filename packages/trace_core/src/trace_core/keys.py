"""Server keys kept in files: generated once, read by every process that starts.

The composition root gives each signing purpose its own key (attachment URLs,
the sign-in cookie, page cursors): from a setting when one is configured (the
way to share a key between replicas), otherwise from a file in the data
directory that the first process to start creates.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from trace_core.errors import InvalidInputError

__all__ = ["load_or_create_secret"]


def load_or_create_secret(path: Path) -> bytes:
    """Return the secret stored at ``path``, creating it (32 random bytes, mode 0600) once.

    The secret is written to a private temporary file and then hard-linked into
    place, which fails if the file exists: two processes starting together agree
    on one complete secret (the loser reads the winner's file).

    Raises:
        InvalidInputError: the file exists but holds no usable secret.

    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    text = path.read_text().strip()
    if len(text) < 32:
        raise InvalidInputError(str(path), "the secret file is too short (at least 32 characters)")
    return text.encode()
