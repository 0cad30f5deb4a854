"""Random secrets and how they are hashed at rest.

Every bearer secret Trace issues (API keys, access and refresh tokens,
authorization codes, client secrets) is 256 bits from :mod:`secrets`, shown to
its owner once and stored only as a hash.

Why HMAC-SHA-256 and not argon2 like passwords: a slow hash exists to make
guessing a *low-entropy* secret expensive. A 256-bit random secret cannot be
guessed however fast the hash is, so a slow hash would buy nothing and cost
tens of milliseconds of CPU and memory on *every* authenticated request. A
keyed hash (the key is a server-side "pepper") additionally means a leaked
database alone does not let anyone test candidate keys offline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = [
    "ACCESS_TOKEN_PREFIX",
    "API_KEY_PREFIX",
    "CLIENT_SECRET_PREFIX",
    "REFRESH_TOKEN_PREFIX",
    "SecretHasher",
    "new_secret",
]

API_KEY_PREFIX = "trace_"
ACCESS_TOKEN_PREFIX = "tat_"  # noqa: S105 (a visible prefix, not a secret)
REFRESH_TOKEN_PREFIX = "trt_"  # noqa: S105
CLIENT_SECRET_PREFIX = "tcs_"  # noqa: S105

SECRET_BYTES = 32
"""256 bits of randomness in every issued secret (codes included: well above the 160 required)."""

DEFAULT_HASH_KEY = b"trace-credential-hash-v1"
"""Domain-separation key used when the operator configures no pepper."""


def new_secret(prefix: str = "") -> str:
    """Return ``prefix`` followed by 32 random bytes, URL-safe base64 (43 characters)."""
    return prefix + secrets.token_urlsafe(SECRET_BYTES)


class SecretHasher:
    """Hashes presented secrets for storage and lookup (HMAC-SHA-256, hex)."""

    def __init__(self, key: bytes | str | None = None) -> None:
        if isinstance(key, str):
            key = key.encode()
        self._key = key or DEFAULT_HASH_KEY

    def hash(self, secret: str) -> str:
        """Return the hex digest under which ``secret`` is stored."""
        return hmac.new(self._key, secret.encode(), hashlib.sha256).hexdigest()
