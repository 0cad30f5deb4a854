"""The one context manager that turns database errors into Trace errors at trace_sql's edge."""

from __future__ import annotations

import sqlite3

import anyio
import pytest
from sqlalchemy import exc as sa_exc

from trace_core.errors import ConflictError, NotFoundError, UnavailableError
from trace_sql.errors import translated_errors


def _operational() -> sa_exc.OperationalError:
    return sa_exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))


def _unknown_driver_error() -> sa_exc.DBAPIError:
    # A DBAPIError translate_error has no Trace error for.
    return sa_exc.DBAPIError("SELECT 1", {}, Exception("something odd"))


def test_a_driver_error_leaves_the_block_as_a_trace_error_chained_from_it() -> None:
    original = _operational()
    with pytest.raises(UnavailableError) as caught, translated_errors():
        raise original
    assert caught.value.__cause__ is original


def test_an_integrity_violation_becomes_a_conflict_with_the_given_message() -> None:
    violation = sa_exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE failed"))
    with (
        pytest.raises(ConflictError, match="that name is taken"),
        translated_errors(conflict="that name is taken"),
    ):
        raise violation


def test_a_driver_error_without_a_translation_goes_through_unchanged() -> None:
    original = _unknown_driver_error()
    with pytest.raises(sa_exc.DBAPIError) as caught, translated_errors():
        raise original
    assert caught.value is original


def test_a_driver_error_without_a_translation_is_unavailable_when_a_message_is_given() -> None:
    original = _unknown_driver_error()
    with (
        pytest.raises(UnavailableError, match="search is down") as caught,
        translated_errors(unavailable="search is down"),
    ):
        raise original
    assert caught.value.__cause__ is original


def test_the_drivers_own_errors_are_translated_only_when_named() -> None:
    with pytest.raises(sqlite3.OperationalError), translated_errors(unavailable="down"):
        raise sqlite3.OperationalError("no such table")
    with (
        pytest.raises(UnavailableError),
        translated_errors(unavailable="down", driver_errors=(sqlite3.Error,)),
    ):
        raise sqlite3.OperationalError("no such table")


def test_errors_that_are_not_the_databases_go_through_untouched() -> None:
    with pytest.raises(ValueError, match="bad"), translated_errors(unavailable="down"):
        raise ValueError("bad")
    with pytest.raises(NotFoundError), translated_errors(unavailable="down"):
        raise NotFoundError("entry", "e1")


def _raise_in_callers_code(exc: BaseException) -> None:
    with translated_errors() as errors:
        errors.callers_code = True
        raise exc


def test_an_os_error_of_the_callers_own_code_is_not_a_database_failure() -> None:
    disk_full = OSError(28, "No space left on device")
    with pytest.raises(OSError, match="No space left") as caught:
        _raise_in_callers_code(disk_full)
    assert caught.value is disk_full
    # Outside the caller's code, an OSError is the database being out of reach.
    with pytest.raises(UnavailableError), translated_errors():
        raise OSError("connection refused")


def test_a_driver_error_in_the_callers_code_is_still_translated() -> None:
    with pytest.raises(UnavailableError):
        _raise_in_callers_code(_operational())


@pytest.mark.anyio
async def test_the_block_may_await_and_translates_what_the_awaited_call_raises() -> None:
    async def failing_statement() -> None:
        await anyio.lowlevel.checkpoint()
        raise _operational()

    with pytest.raises(UnavailableError), translated_errors():
        await failing_statement()
