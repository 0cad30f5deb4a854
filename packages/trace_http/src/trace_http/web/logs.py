"""Secrets kept out of the server's log lines.

At ``log.level = debug`` uvicorn's access log writes every request line, query
string included: a signed attachment URL (``/attachments/{id}?account=…&expires=…&sig=…``)
is a bearer link for an hour, an OAuth redirect carries an authorization
``code``. :class:`RedactSecrets` replaces such values with ``[redacted]`` in every
record's message, arguments and traceback text:

- query parameters that are credentials (:data:`SECRET_QUERY_PARAMETERS`);
- ``Bearer …`` credentials, as in an ``Authorization`` header;
- Trace API keys, access and refresh tokens and client secrets, by their prefix.

``trace serve`` installs it on every handler once logging is configured
(:func:`redact_secrets_in_logs`), so a line is filtered whichever logger wrote it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from trace_oauth.tokens import (
    ACCESS_TOKEN_PREFIX,
    API_KEY_PREFIX,
    CLIENT_SECRET_PREFIX,
    REFRESH_TOKEN_PREFIX,
)

__all__ = [
    "REDACTED",
    "SECRET_QUERY_PARAMETERS",
    "RedactSecrets",
    "redact",
    "redact_secrets_in_logs",
]

REDACTED = "[redacted]"

SECRET_QUERY_PARAMETERS = (
    "sig",
    "code",
    "code_verifier",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "password",
)
"""Query parameters whose values never reach the log."""

_QUERY = re.compile(
    r"([?&;](?:" + "|".join(SECRET_QUERY_PARAMETERS) + r")=)[^&;#\s\"'<>]+", re.IGNORECASE
)
# token68 (RFC 7235), long enough not to be a word after "bearer" in prose.
_BEARER = re.compile(r"(\bbearer\s+)[A-Za-z0-9._~+/=-]{16,}", re.IGNORECASE)
_CREDENTIAL = re.compile(
    r"\b((?:"
    + "|".join(
        re.escape(p)
        for p in (API_KEY_PREFIX, ACCESS_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX, CLIENT_SECRET_PREFIX)
    )
    + r"))[A-Za-z0-9_-]{20,}"
)
_PLAIN = (int, float, bool, type(None), bytes)


def redact(text: str) -> str:
    """Return ``text`` with credential values replaced by ``[redacted]``."""
    if "=" in text:
        text = _QUERY.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    return _CREDENTIAL.sub(rf"\1{REDACTED}", text)


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, _PLAIN):
        return value
    # An object formatted with %s or %r (a URL, an exception): replace it only if
    # its text held a secret, so formatting stays as it was otherwise.
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


class RedactSecrets(logging.Filter):
    """A logging filter that removes credentials from a record before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's message, arguments and traceback text; always keep the record."""
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {key: _redacted(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_redacted(value) for value in record.args)
        color = record.__dict__.get("color_message")  # uvicorn's coloured variant
        if isinstance(color, str):
            record.__dict__["color_message"] = redact(color)
        if record.exc_info and not record.exc_text:
            # Formatted here (as Formatter.format would) so the text can be cleaned.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def redact_secrets_in_logs() -> RedactSecrets:
    """Install one :class:`RedactSecrets` on every handler of every logger configured so far.

    Handler filters see records propagated from child loggers too, so this
    covers the app's loggers (through the root handlers) and uvicorn's access
    and error loggers (their own handlers). Call it after logging is configured.

    Returns:
        The installed filter (tests remove it again).

    """
    secret_filter = RedactSecrets()
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, RedactSecrets) for f in handler.filters):
                handler.addFilter(secret_filter)
    return secret_filter
