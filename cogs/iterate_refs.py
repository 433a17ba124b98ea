"""Fresh URLs for the expired Discord attachments of an earlier job, never by downloading them.

Two sources, in turn: the message the images came from ("Make video" jobs record it), which
Discord returns with freshly signed URLs; then Discord's attachment-URL refresh endpoint, for
``/video`` uploads that have no message. That endpoint is what Discord's own clients use and it
answers bot tokens, but it is not in the public documentation: ``refresh_attachment_urls`` is
the one place that calls it. What neither gives back is reported by name ("please attach it
again"), before anything is reserved.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from hh_bot.errors import BadInput
from hh_bot.jobs.lineage import StoredReferences, expired, with_urls
from hh_bot.jobs.model import Job
from hh_bot.references.expiry import attachment_key, is_expired

if TYPE_CHECKING:
    from bot import HHBot

log = logging.getLogger(__name__)
REFRESH_ROUTE = "/attachments/refresh-urls"


async def refresh_attachment_urls(bot: discord.Client, urls: list[str]) -> dict[str, str]:
    """Ask Discord to re-sign ``urls``: old URL → fresh URL for those it renewed. Any failure
    (the endpoint refused, moved or is unreachable) renews nothing."""
    route = discord.http.Route("POST", REFRESH_ROUTE)
    try:
        answer: Any = await bot.http.request(route, json={"attachment_urls": urls})
    except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
        log.warning("attachment URL refresh failed (%s)", type(error).__name__)
        return {}
    renewed: dict[str, str] = {}
    for item in (answer or {}).get("refreshed_urls") or []:
        original, fresh = item.get("original"), item.get("refreshed")
        if isinstance(original, str) and isinstance(fresh, str) and original in urls:
            renewed[original] = fresh
    return renewed


async def _from_source(bot: HHBot, job: Job, urls: list[str]) -> dict[str, str]:
    """Fresh URLs of ``urls`` read from the job's source message (a "Make video" job)."""
    if job.source_channel_id is None or job.source_message_id is None:
        return {}
    try:
        data: Any = await bot.http.get_message(job.source_channel_id, job.source_message_id)
    except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
        log.info("job %s: source message unavailable (%s)", job.id, type(error).__name__)
        return {}
    by_key = {attachment_key(a.get("url", "")): a.get("url") for a in data.get("attachments", [])}
    found: dict[str, str] = {}
    for url in urls:
        fresh = by_key.get(attachment_key(url))
        if isinstance(fresh, str):
            found[url] = fresh
    return found


async def fresh_references(bot: HHBot, job: Job, refs: StoredReferences) -> StoredReferences:
    """``refs`` with every expired attachment URL renewed; ``BadInput("reference_expired")``
    naming the first one that could not be."""
    now = bot.services.clock.now()
    stale = [ref.url for ref in expired(refs, now)]
    if not stale:
        return refs
    renewed = await _from_source(bot, job, stale)
    missing = [url for url in stale if url not in renewed]
    if missing:
        renewed |= await refresh_attachment_urls(bot, missing)
    for ref in refs.kept:
        fresh = renewed.get(ref.url)
        if ref.url in stale and (fresh is None or is_expired(fresh, now)):
            raise BadInput("reference_expired", field="images", params={"image": ref.label})
    return with_urls(refs, renewed)
