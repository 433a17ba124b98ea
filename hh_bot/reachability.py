"""When a service can't be reached: one line that says what and why, and when to try again.

A machine without a route to Discord (no DNS, a firewall, an outage) is a state the bot waits
out, not a crash: ``describe`` turns the transport error into a short reason an operator can act
on ("DNS lookup failed (Name or service not known)"), and ``ReconnectBackoff`` spaces the
attempts: doubling from ``base`` up to ``cap`` seconds, each wait drawn from its upper half so
that many bots restarted together don't knock in step.
"""

from __future__ import annotations

import os
import random
import socket
import ssl
from dataclasses import dataclass, field

import aiohttp

#: Errors that mean "the other side could not be reached or did not answer": worth waiting out.
UNREACHABLE: tuple[type[BaseException], ...] = (aiohttp.ClientError, OSError, TimeoutError)


def describe(error: BaseException) -> str:
    """A one-line reason for a transport failure, without any URL path or secret in it."""
    match error:
        case aiohttp.ClientConnectorDNSError():
            return f"DNS lookup of {error.host} failed ({_os_reason(error.os_error)})"
        case aiohttp.ClientConnectorCertificateError():
            return f"the TLS certificate of {error.host} was refused"
        case aiohttp.ClientConnectorError():
            where = f"{error.host}:{error.port}"
            return f"connecting to {where} failed ({_os_reason(error.os_error)})"
        case aiohttp.ServerDisconnectedError():
            return "the server closed the connection without answering"
        case aiohttp.ServerTimeoutError() | TimeoutError():
            return "no answer in time"
        case aiohttp.ClientResponseError():
            return f"answered HTTP {error.status}"
        case socket.gaierror():
            return f"DNS lookup failed ({_os_reason(error)})"
        case ssl.SSLError():
            return f"TLS failed ({error.reason or type(error).__name__})"
        case OSError():
            return _os_reason(error)
    return type(error).__name__


def _os_reason(error: OSError) -> str:
    if isinstance(error, socket.gaierror):
        return error.strerror or "unknown name"
    if error.errno:
        return os.strerror(error.errno)
    return error.strerror or type(error).__name__


@dataclass
class ReconnectBackoff:
    """Waits between attempts to reach a service: 2, 4, 8 … up to ``cap`` seconds, with
    jitter (each wait is drawn from [½, 1] of its step)."""

    base: float = 2.0
    cap: float = 60.0
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next_delay(self) -> float:
        step = min(self.cap, self.base * 2.0**self.attempts)
        self.attempts += 1
        return step * self.rng.uniform(0.5, 1.0)
