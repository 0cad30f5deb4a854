"""How long a sign-in on the web pages lasts: renewed by use, ended when idle or too old."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from trace_core.testing.memory import FixedClock
from trace_core.testing.memory_credentials import InMemoryCredentialStore
from trace_oauth import WebSessions
from trace_oauth.tokens import SecretHasher

pytestmark = pytest.mark.anyio

TTL = timedelta(hours=10)
MAX_AGE = timedelta(hours=48)


def _sessions() -> tuple[WebSessions, FixedClock, InMemoryCredentialStore]:
    clock = FixedClock()
    credentials = InMemoryCredentialStore()
    sessions = WebSessions(
        credentials, clock, SecretHasher(b"k" * 32), b"s" * 32, ttl=TTL, max_age=MAX_AGE
    )
    return sessions, clock, credentials


async def test_a_session_used_now_and_then_stays_signed_in() -> None:
    sessions, clock, _ = _sessions()
    alice = uuid4()
    session_id = await sessions.start(alice)
    for _ in range(4):  # 36 hours in all, never 10 hours idle
        clock.advance(hours=9)
        assert await sessions.account_for(session_id) == alice


async def test_an_idle_session_ends() -> None:
    sessions, clock, _ = _sessions()
    session_id = await sessions.start(uuid4())
    clock.advance(seconds=TTL.total_seconds() + 1)
    assert await sessions.account_for(session_id) is None


async def test_a_session_ends_at_its_maximum_age_however_it_is_used() -> None:
    sessions, clock, _ = _sessions()
    alice = uuid4()
    session_id = await sessions.start(alice)
    for _ in range(5):  # 45 hours
        clock.advance(hours=9)
        assert await sessions.account_for(session_id) == alice
    clock.advance(hours=3, seconds=1)  # 48 hours and a second after sign-in
    assert await sessions.account_for(session_id) is None


async def test_renewal_writes_only_now_and_then() -> None:
    sessions, clock, credentials = _sessions()
    session_id = await sessions.start(uuid4())
    stored = await credentials.get_session(SecretHasher(b"k" * 32).hash(session_id))
    assert stored is not None
    clock.advance(minutes=30)  # less than a tenth of the TTL: no write
    await sessions.account_for(session_id)
    same = await credentials.get_session(stored.session_hash)
    assert same == stored
    clock.advance(hours=1)
    await sessions.account_for(session_id)
    moved = await credentials.get_session(stored.session_hash)
    assert moved is not None
    assert moved.expires_at == clock.now() + TTL


def test_the_idle_time_cannot_outlast_the_maximum_age() -> None:
    with pytest.raises(ValueError, match="ttl"):
        WebSessions(
            InMemoryCredentialStore(),
            FixedClock(),
            SecretHasher(b"k" * 32),
            b"s" * 32,
            ttl=timedelta(days=2),
            max_age=timedelta(days=1),
        )
