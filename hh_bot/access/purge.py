"""Removing a member's content on request (``/hh-admin purge-user``): their prompts, references
and results leave the store and the archive; what they spent stays in the totals, under an
anonymous id.

What was already posted in Discord (results, audit lines) is Discord's and stays; the cog says
so. Jobs other members made are theirs and are kept whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from hh_bot.media.archive import Archive
from hh_bot.store.interface import Store

ANONYMOUS_ID = 0
"""The member id a purge leaves on the jobs, the ledger and billing."""


@dataclass(frozen=True)
class PurgeReport:
    jobs: int
    """Finished jobs whose content was removed."""
    running: int
    """Jobs still unfinished, left alone: purge again once they end."""
    archived: int
    """Original videos removed from the archive."""


async def purge_member(
    store: Store, guild_id: int, user_id: int, archive: Archive | None = None
) -> PurgeReport:
    """Scrub the store first (one transaction), then delete the archived originals of the
    scrubbed jobs; with no archive configured there is nothing more to delete."""
    purged = await store.purge_member(guild_id, user_id, ANONYMOUS_ID)
    removed = 0
    if archive is not None:
        for job_id in purged.jobs:
            removed += await archive.delete(job_id)
    return PurgeReport(len(purged.jobs), purged.running, removed)
