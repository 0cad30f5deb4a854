"""Password hashing with argon2id.

Passwords are low-entropy secrets chosen by people, so they get a deliberately
slow, memory-hard hash (argon2id with the library's RFC 9106 "low memory"
profile). API keys and OAuth tokens are 256-bit random values and use a fast
keyed hash instead; see :mod:`trace_oauth.secrets`.
"""

from __future__ import annotations

import contextlib
import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

from trace_core.errors import InvalidInputError

__all__ = ["hash_password", "needs_rehash", "verify_password"]

MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


@functools.cache
def _dummy_hash() -> str:
    # A hash of a password nobody knows: verifying against it when an email is
    # unknown makes a failed login take as long as a wrong password, so timing
    # does not reveal whether the account exists. Made on first use, not import.
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """Return the argon2id hash (PHC string) of ``password``.

    Args:
        password: the plaintext password.

    Returns:
        A self-describing ``$argon2id$...`` string, safe to store.

    Raises:
        InvalidInputError: the password is shorter than 8 characters.

    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(
            "password", f"must be at least {MIN_PASSWORD_LENGTH} characters long"
        )
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Return whether ``password`` matches ``password_hash``.

    Args:
        password_hash: the stored hash, or None for an account without a
            password (or an unknown account): a dummy hash is checked so the
            call takes the same time, and False is returned.
        password: the plaintext to check.

    Returns:
        True on a match; False on a mismatch or a malformed stored hash.

    """
    if not password_hash:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_dummy_hash(), password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Return whether the hash was made with weaker parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
