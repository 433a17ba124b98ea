"""Paces the bot's visible messages per channel under Discord's shared per-channel limit.

Discord allows about five message sends or edits per channel every five seconds, shared by
everything the bot does there, and says so only with a 429 after the fact. Progress edits are
optional: when a channel's budget is spent they are skipped (the next change repaints), and one
slot is always kept free for outcomes. Outcomes wait for a slot instead of being refused.

Discord counts a request when it *arrives*, which is some time after the bot decided to send it
(discord.py's own queueing, the network, a busy event loop) and before the answer comes back.
So a slot is held for the whole request, ``async with pacer.slot(channel):``, and its window
starts when the request has ended, not when it was granted: whatever the delay, every request
Discord counted in the last ``window`` seconds is either still in flight or ended less than
``window`` ago by our clock, so the pacer never lets a sixth one through.
"""

from __future__ import annotations

import asyncio
import collections
import math
from dataclasses import dataclass, field
from types import TracebackType

from hh_bot.clock import Clock

LIMIT = 5
WINDOW = 5.0
IN_FLIGHT = math.inf  # the end time of a slot whose request has not ended yet


@dataclass
class _Channel:
    ends: list[float] = field(default_factory=list)  # one per slot: end time, or IN_FLIGHT
    ended: asyncio.Event = field(default_factory=asyncio.Event)  # set when a request ends


class Slot:
    """One request's claim on a channel's budget, from when it is granted until it ends.

    Granted at creation; ``async with`` it around the request (the window starts at the exit,
    whatever the request raised). A slot must be used: one never entered stays in flight."""

    def __init__(self, pacer: ChannelPacer, channel_id: int) -> None:
        self._pacer = pacer
        self._channel_id = channel_id
        self._open = True

    async def __aenter__(self) -> Slot:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.end()

    def end(self) -> None:
        """The request has ended (answered, failed or abandoned): its window starts now."""
        if self._open:
            self._open = False
            self._pacer._end(self._channel_id)


class ChannelPacer:
    def __init__(self, clock: Clock, *, limit: int = LIMIT, window: float = WINDOW) -> None:
        self._clock = clock
        self._limit = limit
        self._window = window
        self._channels: dict[int, _Channel] = collections.defaultdict(_Channel)

    def _used(self, channel_id: int) -> _Channel:
        """The channel's slots still counting: in flight, or ended within the window."""
        channel = self._channels[channel_id]
        cutoff = self._clock.now() - self._window
        channel.ends = [end for end in channel.ends if end > cutoff]
        return channel

    def try_slot(self, channel_id: int, *, keep: int = 1) -> Slot | None:
        """A slot if more than ``keep`` are free (for optional edits like progress), else None."""
        channel = self._used(channel_id)
        if len(channel.ends) >= self._limit - keep:
            return None
        channel.ends.append(IN_FLIGHT)
        return Slot(self, channel_id)

    async def slot(self, channel_id: int) -> Slot:
        """Wait for a slot and take it (for outcomes, which must go out)."""
        while True:
            channel = self._used(channel_id)
            if len(channel.ends) < self._limit:
                channel.ends.append(IN_FLIGHT)
                return Slot(self, channel_id)
            first_free = min(channel.ends) + self._window
            if math.isinf(first_free):  # every slot in flight: wait for one to end
                channel.ended.clear()
                await channel.ended.wait()
                continue
            await self._clock.sleep(first_free - self._clock.now() + 0.01)

    def in_flight(self, channel_id: int) -> int:
        """How many of the channel's slots are held by requests that have not ended."""
        return sum(1 for end in self._channels[channel_id].ends if math.isinf(end))

    def _end(self, channel_id: int) -> None:
        channel = self._channels[channel_id]
        if IN_FLIGHT in channel.ends:
            channel.ends.remove(IN_FLIGHT)
            channel.ends.append(self._clock.now())
        channel.ended.set()
