"""Paces the bot's visible messages per channel under Discord's shared per-channel limit.

Discord allows about five message sends or edits per channel every five seconds, shared by
everything the bot does there, and says so only with a 429 after the fact. Progress edits are
optional: when a channel's budget is spent they are skipped (the next change repaints), and one
slot is always kept free for outcomes. Outcomes wait for a slot instead of being refused.
"""

from __future__ import annotations

import collections

from hh_bot.clock import Clock

LIMIT = 5
WINDOW = 5.0


class ChannelPacer:
    def __init__(self, clock: Clock, *, limit: int = LIMIT, window: float = WINDOW) -> None:
        self._clock = clock
        self._limit = limit
        self._window = window
        self._sent: dict[int, collections.deque[float]] = collections.defaultdict(collections.deque)

    def _recent(self, channel_id: int) -> collections.deque[float]:
        sent = self._sent[channel_id]
        cutoff = self._clock.now() - self._window
        while sent and sent[0] <= cutoff:
            sent.popleft()
        return sent

    def try_take(self, channel_id: int, *, keep: int = 1) -> bool:
        """Take a slot if more than ``keep`` are free (for optional edits like progress)."""
        sent = self._recent(channel_id)
        if len(sent) >= self._limit - keep:
            return False
        sent.append(self._clock.now())
        return True

    async def take(self, channel_id: int) -> None:
        """Wait for a slot and take it (for outcomes, which must go out)."""
        while True:
            sent = self._recent(channel_id)
            if len(sent) < self._limit:
                sent.append(self._clock.now())
                return
            await self._clock.sleep(sent[0] + self._window - self._clock.now() + 0.01)
