"""Resolving host names under the link policy of ``hh_bot.references.netpolicy``.

``resolve_public`` is the check before a probe; ``PublicOnlyResolver`` plugs the same rules into
aiohttp's connector, so the address actually connected to is checked too. ``SystemResolver``
asks the operating system; ``StaticResolver`` answers from a table (tests, pinned hosts).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Mapping

from aiohttp.abc import AbstractResolver, ResolveResult

from hh_bot.i18n import Reason
from hh_bot.references.netpolicy import (
    IPAddress,
    PolicyViolation,
    Resolver,
    address_problem,
    host_problem,
    normalise_host,
    parse_ip_literal,
    short_host,
)


async def resolve_public(resolver: Resolver, raw_host: str) -> list[IPAddress]:
    """Resolve ``raw_host`` and require every address to be public.

    Raises :class:`PolicyViolation` (with the reason for the user) if the name or any address
    is not public, or if nothing usable comes back."""
    problem = host_problem(raw_host)
    if problem is not None:
        raise PolicyViolation(problem)
    host = normalise_host(raw_host)
    literal = parse_ip_literal(host)
    if literal is not None:
        return [literal]
    not_found = Reason("reference.host.not_found", {"host": short_host(host)})
    try:
        answers = await resolver.resolve(host)
    except OSError as exc:
        raise PolicyViolation(not_found) from exc
    if not answers:
        raise PolicyViolation(not_found)
    addresses: list[IPAddress] = []
    for answer in answers:
        try:
            addr = ipaddress.ip_address(answer)
        except ValueError as exc:
            raise PolicyViolation(not_found) from exc
        problem = address_problem(addr)
        if problem is not None:
            raise PolicyViolation(
                Reason("reference.host.resolves_to", {"host": short_host(host)}, problem)
            )
        addresses.append(addr)
    return addresses


class SystemResolver:
    """The default :class:`Resolver`: the operating system's ``getaddrinfo``."""

    async def resolve(self, host: str) -> list[str]:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        found: list[str] = []
        for family, _type, _proto, _name, sockaddr in infos:
            address = str(sockaddr[0])
            if family == socket.AF_INET6 and len(sockaddr) > 3 and sockaddr[3]:
                address = f"{address}%{sockaddr[3]}"
            if address not in found:
                found.append(address)
        if not found:
            raise OSError(f"{host} has no addresses")
        return found


class StaticResolver:
    """A :class:`Resolver` from a fixed table (tests, pinned hosts); unknown names fail."""

    def __init__(self, table: Mapping[str, Iterable[str]]) -> None:
        self._table = {normalise_host(k): list(v) for k, v in table.items()}

    async def resolve(self, host: str) -> list[str]:
        try:
            return list(self._table[normalise_host(host)])
        except KeyError:
            raise OSError(f"{host} does not resolve") from None


class AiohttpResolver(AbstractResolver):
    """Adapts a :class:`Resolver` to aiohttp's connector interface, without any policy."""

    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver

    async def _addresses(self, host: str) -> list[str]:
        return await self._resolver.resolve(host)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results: list[ResolveResult] = []
        for address in await self._addresses(host):
            fam = socket.AF_INET6 if ":" in address else socket.AF_INET
            if family not in (socket.AF_UNSPEC, fam):
                continue
            results.append(
                ResolveResult(
                    hostname=host,
                    host=address,
                    port=port,
                    family=fam,
                    proto=0,
                    flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
                )
            )
        if not results:
            raise OSError(f"{host} has no usable addresses")
        return results

    async def close(self) -> None:
        return None


class PublicOnlyResolver(AiohttpResolver):
    """A connector resolver that refuses names resolving to any non-public address, so the
    address actually connected to passes the same policy (protection against DNS rebinding)."""

    async def _addresses(self, host: str) -> list[str]:
        return [str(a) for a in await resolve_public(self._resolver, host)]
