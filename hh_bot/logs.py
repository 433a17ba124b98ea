"""Logging set-up whose output can't carry a secret: the formatter masks every known secret in
the finished line, tracebacks and exception texts included, and every token it can recognise
by where it stands, which covers the secrets no one configured: interaction tokens.

discord.py logs interaction tokens at DEBUG in two shapes, both masked here:

* URLs: ``/webhooks/<application id>/<token>/…`` (every followup and reply edit) and
  ``/interactions/<interaction id>/<token>/callback`` (every first response);
* gateway events, logged whole: ``INTERACTION_CREATE`` carries ``'token': '<token>'``.

The rule is by shape, not by value, since these tokens are new with every interaction: the path
segment after a webhook's or interaction's id, and the value of any key named ``token`` or
``…_token`` (``interaction_token`` in a stored reply, ``access_token``).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

from hh_bot.reachability import describe

MASK = "****"

# /webhooks/<id>/<token> and /interactions/<id>/<token>, in any URL or path.
_TOKEN_PATH = re.compile(r"(/(?:webhooks|interactions)/\d+/)([^/?#\s'\"]+)")
# 'token': 'x', "token":"x", token='x', interaction_token: "x" (JSON, repr or keyword style).
_TOKEN_VALUE = re.compile(r"""(\b(?:\w+_)?token['"]?\s*[:=]\s*['"])([^'"]+)(['"])""", re.IGNORECASE)


def mask_tokens(text: str) -> str:
    """Mask every token recognisable by its place: in a webhook or interaction URL, or as the
    value of a ``token`` key."""
    text = _TOKEN_PATH.sub(lambda m: m.group(1) + MASK, text)
    return _TOKEN_VALUE.sub(lambda m: m.group(1) + MASK + m.group(3), text)


class RedactingFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str], fmt: str | None = None) -> None:
        super().__init__(fmt or "%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        # Longest first, so a secret containing another is masked whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return mask_tokens(text)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class OneLineReconnects(logging.Filter):
    """discord.py logs each gateway reconnect with a whole traceback (``_log.exception``) for
    what is a network blip the library handles itself; the reason fits in one line."""

    MESSAGE = "Attempting a reconnect in %.2fs"

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "discord.client" and record.msg == self.MESSAGE and record.exc_info:
            error = record.exc_info[1]
            reason = describe(error) if error is not None else "unknown"
            record.msg = "lost the connection to Discord (%s); reconnecting in %.0f s"
            args = record.args if isinstance(record.args, tuple) else ()
            record.args = (reason, *args)
            record.exc_info = None
            record.exc_text = None
        return True


def setup_logging(level: str, secrets: Iterable[str]) -> logging.Handler:
    """Route every log line through one redacting handler on stderr; returns the handler.

    Below DEBUG, discord.py's chatter is trimmed: request lines (``discord.http``) and the
    "logging in" line ``discord.client`` repeats on every attempt to reach Discord."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets))
    handler.addFilter(OneLineReconnects())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("discord.http").setLevel(max(logging.INFO, root.level))
    if root.level > logging.DEBUG:
        logging.getLogger("discord.client").setLevel(max(logging.WARNING, root.level))
    return handler
