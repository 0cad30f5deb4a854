import threading
from typing import Any

import anyio
import anyio.from_thread
import pytest
from oauth_support import PASSWORD, AuthServer, Flow, hidden

from trace_core.errors import AuthenticationError, InvalidInputError, RateLimitedError
from trace_oauth.passwords import (
    PasswordHashing,
    hash_password,
    needs_rehash,
    shared_password_hashing,
    verify_password,
)


def test_a_password_verifies_against_its_own_argon2id_hash() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery")
    assert not needs_rehash(stored)


def test_a_wrong_password_does_not_verify() -> None:
    stored = hash_password("correct horse battery")
    assert not verify_password(stored, "correct horse batterz")


def test_an_account_without_a_password_never_verifies() -> None:
    assert not verify_password(None, "anything at all")
    assert not verify_password("", "anything at all")


def test_a_malformed_stored_hash_does_not_verify() -> None:
    assert not verify_password("not-a-hash", "whatever1")


def test_short_passwords_are_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInputError) as info:
        hash_password("short")
    assert info.value.field == "password"


def test_the_same_password_hashes_differently_each_time() -> None:
    assert hash_password("same password") != hash_password("same password")


class CountingWork:
    """A fake hash function: counts how many run at once and blocks until released."""

    def __init__(self, *, hold_until: int, answer: bool = True) -> None:
        self.answer = answer
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.calls: list[str | None] = []
        self.release = threading.Event()
        self.hold_until = hold_until
        self.all_held = anyio.Event()

    def verify(self, password_hash: str | None, password: str) -> bool:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.calls.append(password_hash)
            full = self.running == self.hold_until
        if full:
            anyio.from_thread.run_sync(self.all_held.set)
        self.release.wait(timeout=30)
        with self.lock:
            self.running -= 1
        return self.answer

    def hash(self, password: str) -> str:
        self.verify(None, password)
        return hash_password(password)


async def _check_many(gate: PasswordHashing, n: int) -> tuple[list[bool], list[RateLimitedError]]:
    results: list[bool] = []
    refused: list[RateLimitedError] = []

    async def check() -> None:
        try:
            results.append(await gate.verify("stored hash", "password"))
        except RateLimitedError as exc:
            refused.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(n):
            tg.start_soon(check)
    return results, refused


@pytest.mark.anyio
async def test_at_most_the_permitted_number_of_password_checks_run_at_once() -> None:
    work = CountingWork(hold_until=2)
    gate = PasswordHashing(permits=2, waiting=20, verify_fn=work.verify)
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:

            async def run() -> None:
                outcome = await _check_many(gate, 12)
                assert outcome == ([True] * 12, [])

            tg.start_soon(run)
            await work.all_held.wait()
            await anyio.wait_all_tasks_blocked()
            assert work.running == 2
            work.release.set()
    assert work.peak == 2
    assert len(work.calls) == 12


@pytest.mark.anyio
async def test_password_checks_beyond_the_queue_bound_are_rate_limited_at_once() -> None:
    work = CountingWork(hold_until=2)
    gate = PasswordHashing(permits=2, waiting=3, retry_after=1.0, verify_fn=work.verify)
    outcome: list[tuple[list[bool], list[RateLimitedError]]] = []
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:

            async def run() -> None:
                outcome.append(await _check_many(gate, 10))

            tg.start_soon(run)
            await work.all_held.wait()
            await anyio.wait_all_tasks_blocked()
            assert len(work.calls) == 2  # two running, three waiting, five refused
            work.release.set()
    results, refused = outcome[0]
    assert results == [True] * 5
    assert len(refused) == 5
    assert all(exc.retry_after > 0 for exc in refused)
    assert work.peak == 2


@pytest.mark.anyio
async def test_the_shared_password_hashing_hashes_and_checks_with_argon2id() -> None:
    gate = shared_password_hashing()
    assert gate is shared_password_hashing()
    stored = await gate.hash("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert await gate.verify(stored, "correct horse battery")
    assert not await gate.verify(None, "correct horse battery")
    with pytest.raises(InvalidInputError):
        await gate.hash("short")


# --- the limit on the sign-in and sign-up paths ---------------------------------------


@pytest.fixture
def work() -> CountingWork:
    return CountingWork(hold_until=1, answer=False)


@pytest.fixture
def password_hashing(work: CountingWork) -> PasswordHashing:
    return PasswordHashing(permits=1, waiting=0, verify_fn=work.verify, hash_fn=work.hash)


@pytest.mark.anyio
async def test_a_sign_in_for_an_unknown_email_takes_a_turn_for_its_dummy_hash(
    server: AuthServer, work: CountingWork
) -> None:
    work.release.set()
    with pytest.raises(AuthenticationError):
        await server.service.login("nobody@example.com", PASSWORD, client_ip="192.0.2.1")
    assert work.calls == [None]


async def _while_the_only_turn_is_taken(server: AuthServer, work: CountingWork, then: Any) -> Any:
    """Hold the one hashing turn with a sign-in, run ``then()``, release the turn."""
    outcome: list[Any] = []
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:

            async def hold() -> None:
                with pytest.raises(AuthenticationError):
                    await server.service.login("alice@example.com", "x", client_ip="192.0.2.1")

            tg.start_soon(hold)
            await work.all_held.wait()
            outcome.append(await then())
            work.release.set()
    return outcome[0]


@pytest.mark.anyio
async def test_a_sign_in_beyond_the_hashing_queue_is_answered_429(
    server: AuthServer, work: CountingWork
) -> None:
    client = await server.register()
    page = await server.client.get("/authorize", params=Flow(client["client_id"]).params())
    data = {
        "csrf_token": hidden(page.text, "csrf_token"),
        "request": hidden(page.text, "request"),
        "email": "alice@example.com",
        "password": PASSWORD,
    }

    async def sign_in() -> Any:
        return await server.client.post("/authorize/login", data=data)

    response = await _while_the_only_turn_is_taken(server, work, sign_in)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    assert len(work.calls) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("signup_enabled", [True])
async def test_a_sign_up_beyond_the_hashing_queue_is_answered_429(
    server: AuthServer, work: CountingWork
) -> None:
    form = await server.client.get("/signup")
    data = {
        "csrf_token": hidden(form.text, "csrf_token"),
        "request": "",
        "email": "dora@example.com",
        "password": "a long enough password",
    }

    async def sign_up() -> Any:
        return await server.client.post("/signup", data=data)

    response = await _while_the_only_turn_is_taken(server, work, sign_up)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    retried = await sign_up()
    assert retried.status_code == 201, retried.text
