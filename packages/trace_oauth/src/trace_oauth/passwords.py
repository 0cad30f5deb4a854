"""Password hashing with argon2id.

Passwords are low-entropy secrets chosen by people, so they get a deliberately
slow, memory-hard hash (argon2id with the library's RFC 9106 "low memory"
profile: 64 MiB and tens of milliseconds of CPU each). API keys and OAuth
tokens are 256-bit random values and use a fast keyed hash instead; see
:mod:`trace_oauth.tokens`.

A server hashes through :class:`PasswordHashing`, which runs the work in worker
threads, a few at a time for the whole process: 40 concurrent wrong-password
posts once took the process from 111 to 850 MB. The functions below are the
synchronous work itself (and what the command line uses).
"""

from __future__ import annotations

import contextlib
import functools
import secrets
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

from trace_core.errors import InvalidInputError, RateLimitedError

__all__ = [
    "MAX_CONCURRENT_HASHES",
    "MAX_WAITING_HASHES",
    "PasswordHashing",
    "hash_password",
    "needs_rehash",
    "shared_password_hashing",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 8
MAX_CONCURRENT_HASHES = 2
"""Password hashes or checks computed at once in a process (64 MiB each)."""
MAX_WAITING_HASHES = 32
"""Password hashes or checks that may wait for a turn; more are refused (429)."""

T = TypeVar("T")

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


class PasswordHashing:
    """Hashes and checks passwords in worker threads, a bounded number at a time.

    At most ``permits`` run at once (each holds argon2id's 64 MiB while it
    runs); up to ``waiting`` more wait their turn, in order, so the longest
    wait is about ``waiting / permits`` hashes. Beyond that a call fails at once
    with :class:`~trace_core.errors.RateLimitedError` instead of queueing
    without bound. A check against no stored hash (an unknown account) runs
    the dummy hash and takes its turn like any other, so it costs the same.

    ``hash_fn`` and ``verify_fn`` are the synchronous work (tests count with them).
    """

    def __init__(
        self,
        *,
        permits: int = MAX_CONCURRENT_HASHES,
        waiting: int = MAX_WAITING_HASHES,
        retry_after: float = 1.0,
        hash_fn: Callable[[str], str] = hash_password,
        verify_fn: Callable[[str | None, str], bool] = verify_password,
    ) -> None:
        self._turns = anyio.CapacityLimiter(permits)
        # Threads for the work; never short, as only holders of a turn ask for one.
        self._threads = anyio.CapacityLimiter(permits)
        self.waiting = waiting
        self.retry_after = retry_after
        self._hash = hash_fn
        self._verify = verify_fn

    async def hash(self, password: str) -> str:
        """Return the argon2id hash of ``password`` (see :func:`hash_password`).

        Raises:
            InvalidInputError: the password is too short.
            RateLimitedError: too many hashes are already waiting.

        """
        return await self._run(functools.partial(self._hash, password))

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Return whether ``password`` matches (see :func:`verify_password`).

        Raises:
            RateLimitedError: too many checks are already waiting.

        """
        return await self._run(functools.partial(self._verify, password_hash, password))

    async def _run(self, work: Callable[[], T]) -> T:
        turns = self._turns.statistics()
        if turns.borrowed_tokens >= turns.total_tokens and turns.tasks_waiting >= self.waiting:
            raise RateLimitedError(self.retry_after)
        # Nothing awaits between the count above and joining the queue here. A
        # caller waits on the event loop, holding no thread and no argon2 memory.
        async with self._turns:
            return await anyio.to_thread.run_sync(work, limiter=self._threads)


@functools.cache
def shared_password_hashing() -> PasswordHashing:
    """Return the process-wide :class:`PasswordHashing` every server path uses."""
    return PasswordHashing()
