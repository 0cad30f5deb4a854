"""The person's day: an account's time zone decides which date "today" is."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from trace_core.errors import InsufficientScopeError, InvalidInputError
from trace_core.model import EntryDraft, Principal
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock
from trace_core.timezones import check_time_zone, today_in

pytestmark = pytest.mark.anyio


async def test_a_new_account_is_in_utc(trace: Trace, alice: Principal) -> None:
    profile = await trace.get_my_account(alice)

    assert profile.time_zone == "UTC"
    assert profile.email == "alice@example.org"
    assert not hasattr(profile, "password_hash")


async def test_set_time_zone_is_kept_and_read_back(trace: Trace, alice: Principal) -> None:
    changed = await trace.set_time_zone(alice, "Europe/Paris")

    assert changed.time_zone == "Europe/Paris"
    assert (await trace.get_my_account(alice)).time_zone == "Europe/Paris"
    assert (await trace.get_account(alice.account_id)).time_zone == "Europe/Paris"


async def test_a_zone_name_in_another_case_is_stored_in_its_listed_spelling(
    trace: Trace, alice: Principal
) -> None:
    assert (await trace.set_time_zone(alice, "america/new_york")).time_zone == "America/New_York"


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus", "", "Europe/../etc/passwd", "localtime", "x" * 80]
)
async def test_an_unknown_zone_is_refused_naming_the_field_with_an_example(
    trace: Trace, alice: Principal, zone: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await trace.set_time_zone(alice, zone)

    assert caught.value.field == "time_zone"
    assert "Europe/Paris" in str(caught.value)
    assert (await trace.get_my_account(alice)).time_zone == "UTC"


async def test_a_read_key_reads_its_account_but_cannot_set_the_zone(
    trace: Trace, alice_read: Principal
) -> None:
    assert (await trace.get_my_account(alice_read)).time_zone == "UTC"
    with pytest.raises(InsufficientScopeError):
        await trace.set_time_zone(alice_read, "Europe/Paris")


@pytest.mark.parametrize(
    ("now", "zone", "today"),
    [
        # 23:30 UTC on the 15th is already the 16th in Paris (UTC+1 in January).
        (datetime(2026, 1, 15, 23, 30, tzinfo=UTC), "Europe/Paris", date(2026, 1, 16)),
        (datetime(2026, 1, 15, 23, 30, tzinfo=UTC), "UTC", date(2026, 1, 15)),
        # 00:30 UTC on the 16th is still the 15th in New York (UTC-5).
        (datetime(2026, 1, 16, 0, 30, tzinfo=UTC), "America/New_York", date(2026, 1, 15)),
        (datetime(2026, 1, 16, 0, 30, tzinfo=UTC), "UTC", date(2026, 1, 16)),
        # One minute before midnight in Auckland (UTC+13 in summer), then midnight.
        (datetime(2026, 1, 15, 10, 59, tzinfo=UTC), "Pacific/Auckland", date(2026, 1, 15)),
        (datetime(2026, 1, 15, 11, 0, tzinfo=UTC), "Pacific/Auckland", date(2026, 1, 16)),
    ],
)
async def test_a_new_entry_is_dated_today_in_the_accounts_zone(
    trace: Trace, alice: Principal, clock: FixedClock, now: datetime, zone: str, today: date
) -> None:
    await trace.set_time_zone(alice, zone)
    clock.set(now)

    entry = await trace.create_entry(alice, EntryDraft(content="late thought"))

    assert entry.entry_date == today


async def test_each_account_gets_its_own_today(
    trace: Trace, alice: Principal, bob: Principal, clock: FixedClock
) -> None:
    await trace.set_time_zone(alice, "Asia/Tokyo")
    clock.set(datetime(2026, 1, 15, 16, 0, tzinfo=UTC))  # 01:00 on the 16th in Tokyo

    tokyo = await trace.create_entry(alice, EntryDraft(content="a"))
    utc = await trace.create_entry(bob, EntryDraft(content="b"))

    assert (tokyo.entry_date, utc.entry_date) == (date(2026, 1, 16), date(2026, 1, 15))


def test_check_time_zone_names_the_field_it_is_given() -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_time_zone("Nowhere/Land", "account.time_zone")
    assert caught.value.field == "account.time_zone"


def test_a_stored_zone_the_database_lost_falls_back_to_utc() -> None:
    assert today_in(datetime(2026, 1, 15, 23, 30, tzinfo=UTC), "Gone/Away") == date(2026, 1, 15)
