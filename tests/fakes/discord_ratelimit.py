"""An opt-in, benchmark-only rate limit for the fake Discord: message sends and edits per channel.

    limiter = ChannelRateLimit(fake, clock, limit=5, window=5.0)
    fake.faults.append(limiter)   # answered like an injected fault, but never used up

Every request that creates or edits a *visible* message in a channel counts against that
channel: bot-token sends and edits, interaction followups, and edits of interaction replies
(``@original`` or a followup id). Interaction callbacks (the acknowledgement) and edits of
ephemeral messages are exempt, as are reads and deletes. Over ``limit`` requests within
``window`` seconds of ``clock`` time (virtual under a ScaledClock) the request is answered 429
with ``X-RateLimit-Scope: shared``; ``retry_after`` is given in real seconds (virtual seconds ÷
``factor``) because discord.py sleeps with ``asyncio.sleep``. No ``X-RateLimit-*`` headers are
sent on successful answers, so a client cannot pace itself ahead of time: it learns about the
limit only from the 429s, which is what makes the count of 429s a measure of burstiness.
"""

from __future__ import annotations

import collections
import re
from typing import TYPE_CHECKING

from hh_bot.clock import Clock

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord
    from tests.fakes.discord_payloads import JSON

_CHANNEL_SEND = re.compile(r"^/channels/(?P<cid>\d+)/messages$")
_CHANNEL_EDIT = re.compile(r"^/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)$")
_FOLLOWUP = re.compile(r"^/webhooks/\d+/(?P<token>[^/]+)$")
_TOKEN_EDIT = re.compile(r"^/webhooks/\d+/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)$")


class ChannelRateLimit:
    """Duck-types ``discord_limits.Fault`` so ``FakeDiscord._api`` answers with it."""

    def __init__(
        self,
        fake: FakeDiscord,
        clock: Clock,
        *,
        limit: int = 5,
        window: float = 5.0,
        factor: float = 1.0,
    ) -> None:
        self.fake = fake
        self.clock = clock
        self.limit = limit
        self.window = window
        self.factor = factor
        self.times = 1  # never used up
        self.status = 429
        self.counted = 0
        self.refused = 0
        self.refused_by_channel: collections.Counter[int] = collections.Counter()
        self._recent: dict[int, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )
        self._wait = 0.0

    # -- the Fault interface ------------------------------------------------------------
    def matches(self, method: str, path: str) -> bool:
        """True when this request must be refused; counts it when it is let through."""
        channel = self._channel_of(method, path)
        if channel is None:
            return False
        now = self.clock.now()
        recent = self._recent[channel]
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            self._wait = recent[0] + self.window - now
            self.refused += 1
            self.refused_by_channel[channel] += 1
            return True
        recent.append(now)
        self.counted += 1
        return False

    def reply(self) -> tuple[int, JSON, dict[str, str]]:
        retry_after = round(max(self._wait, 0.001) / self.factor, 3)
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, round(retry_after))),
            "X-RateLimit-Scope": "shared",
        }
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": False,
            "code": 0,
        }
        return 429, body, headers

    def recent(self, channel_id: int) -> int:
        """How many requests this channel has had counted within the last ``window``."""
        cutoff = self.clock.now() - self.window
        return sum(1 for at in self._recent[channel_id] if at > cutoff)

    # -- what counts --------------------------------------------------------------------
    def _channel_of(self, method: str, path: str) -> int | None:
        if method == "POST" and (m := _CHANNEL_SEND.match(path)):
            return int(m["cid"])
        if method == "PATCH" and (m := _CHANNEL_EDIT.match(path)):
            return int(m["cid"])
        if method == "POST" and (m := _FOLLOWUP.match(path)):
            it = self.fake.by_token.get(m["token"])
            return None if it is None else it.channel_id
        if method == "PATCH" and (m := _TOKEN_EDIT.match(path)):
            it = self.fake.by_token.get(m["token"])
            if it is None:
                return None
            mid = it.original_message_id if m["mid"] == "@original" else int(m["mid"])
            msg = self.fake.messages.get(mid or 0)
            if msg is not None and msg.ephemeral:
                return None
            return it.channel_id
        return None
