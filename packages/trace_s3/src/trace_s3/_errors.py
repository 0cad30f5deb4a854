"""The one place S3 client errors become Trace errors (the adapter's edge)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
from botocore.exceptions import BotoCoreError, ClientError

from trace_core.errors import NotFoundError, UnavailableError

__all__ = ["error_code", "is_missing", "translated_errors"]

log = logging.getLogger("trace.s3")

# What S3 (and the compatible servers) answer for a key that is not there: GET says
# NoSuchKey, HEAD has no body and so only a status.
_MISSING = frozenset({"NoSuchKey", "NotFound", "404"})


def error_code(exc: ClientError) -> str:
    """Return the S3 error code of a client error (``NoSuchKey``, ``AccessDenied``, ``404``)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_missing(exc: ClientError) -> bool:
    """Whether the store answered that the object is not there."""
    return error_code(exc) in _MISSING


@contextmanager
def translated_errors(key: str) -> Iterator[None]:
    """Turn what the S3 client raises into :mod:`trace_core.errors`, for the blob ``key``.

    A missing key is :class:`NotFoundError`; anything else the store or the
    network answers (no such bucket, access denied, no credentials, timeouts,
    refused connections) is :class:`UnavailableError`, logged once here with
    the store's error code, never with credentials or the key's account.
    """
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        if is_missing(exc):
            raise NotFoundError("blob", key) from exc
        log.warning("the S3 store refused a request: %s", code or "unknown error")
        raise UnavailableError(
            f"attachment storage refused the request ({code or 'unknown error'})"
        ) from exc
    except (TimeoutError, BotoCoreError, aiohttp.ClientError, OSError) as exc:
        log.warning("the S3 store is unreachable: %s", type(exc).__name__)
        raise UnavailableError("attachment storage is unreachable; retry shortly") from exc
