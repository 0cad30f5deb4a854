import pytest

from trace_core.errors import InvalidInputError
from trace_oauth.passwords import hash_password, needs_rehash, verify_password


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
