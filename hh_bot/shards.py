"""Discord shards over several bot processes: which shards this process runs, and its claim on
them in the store so that no two processes run one shard.

``SHARD_COUNT`` / ``SHARD_IDS`` (``config.py``) make a ``ShardPlan``; unset, the bot is one
unsharded process. At start the process claims its shard ids (``ShardClaims.claim``): if another
live process holds any of them the start is refused with one line (``ShardsInUse``), before
anything connects to Discord. While it runs it renews the claim every ``RENEW_FRACTION`` of
``CLAIM_LENGTH``; a process that dies stops renewing, so its shards are free a claim length later
(a clean stop frees them at once).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from hh_bot.clock import Clock
from hh_bot.errors import HHError
from hh_bot.store.interface import Store, holder_id

log = logging.getLogger(__name__)

CLAIM_LENGTH = 60.0
"""Clock seconds a shard claim lasts unless renewed."""
RENEW_FRACTION = 0.25
MAX_SHARDS = 4096


@dataclass(frozen=True)
class ShardPlan:
    """``count`` shards in all; this process runs ``ids`` (all of them when not given)."""

    count: int
    ids: tuple[int, ...]

    def describe(self) -> str:
        return f"{','.join(map(str, self.ids))} of {self.count}"


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """``0,1`` or ``0-3`` or ``0-1,4``: sorted, distinct, each >= 0 (``ValueError`` otherwise)."""
    ids: set[int] = set()
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        first, last = int(low), int(high or low)
        if first < 0 or last < first:
            raise ValueError(part)
        ids.update(range(first, last + 1))
    return tuple(sorted(ids))


def shard_plan(count: int | None, ids: tuple[int, ...] | None) -> ShardPlan | None:
    """The plan of SHARD_COUNT and SHARD_IDS; ``ValueError`` (with why) when they disagree."""
    if count is None:
        if ids is not None:
            raise ValueError("SHARD_IDS needs SHARD_COUNT (the number of shards in all)")
        return None
    if ids is None:
        return ShardPlan(count, tuple(range(count)))
    outside = [i for i in ids if i >= count]
    if outside:
        raise ValueError(f"SHARD_IDS {outside} not below SHARD_COUNT={count}")
    return ShardPlan(count, ids)


class ShardsInUse(HHError):
    """Another live process runs some of this process's shards; the message is one line."""


class ShardClaims:
    """This process's claim on its shards (see the module docstring)."""

    def __init__(self, store: Store, clock: Clock, plan: ShardPlan) -> None:
        self.store = store
        self.clock = clock
        self.plan = plan
        self.holder = holder_id()

    async def claim(self) -> None:
        """Claim every shard of the plan, or raise ``ShardsInUse`` naming the taken ones."""
        now = self.clock.now()
        taken = await self.store.claim_shards(
            self.plan.ids, self.holder, now=now, until=now + CLAIM_LENGTH
        )
        if taken:
            ids = ",".join(str(i) for i in sorted(taken))
            holders = ", ".join(sorted(set(taken.values())))
            raise ShardsInUse(
                f"shard(s) {ids} of {self.plan.count} are already run by another bot process"
                f" ({holders}); give each process its own SHARD_IDS"
            )
        log.info("running shard(s) %s", self.plan.describe())

    async def keep(self) -> None:
        """Renew the claim until cancelled; a shard found claimed by another is logged."""
        while True:
            await self.clock.sleep(CLAIM_LENGTH * RENEW_FRACTION)
            try:
                held = await self.store.renew_shards(
                    self.holder, until=self.clock.now() + CLAIM_LENGTH
                )
            except Exception as error:
                log.warning("renewing the shard claim failed (%r); trying again", error)
                continue
            lost = set(self.plan.ids) - held
            if lost:
                log.error("shard(s) %s are claimed by another bot process now", sorted(lost))

    async def release(self) -> None:
        try:
            await self.store.release_shards(self.holder)
        except Exception as error:  # it expires
            log.warning("could not release the shard claim (%r)", error)
