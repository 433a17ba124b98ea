"""A new job made from an earlier one (Retry, Remix, Continue): its lineage and its references.

The earlier job's references were checked when it was admitted. Its Discord attachments are
kept as they are (their URLs refreshed by the Discord layer once expired, see
``hh_bot.references.expiry``); its links are checked again like new ones, since what a link
serves may have changed. The stored order is attachments first, then links, and is kept.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

from hh_bot.i18n import text as text_of
from hh_bot.jobs.model import Job, JobParams
from hh_bot.jobs.request_checks import MAX_SEED
from hh_bot.references.checker import Reference
from hh_bot.references.expiry import is_discord_attachment, is_expired

MAX_REFERENCES = 9
FRAME_LABEL = text_of("reference.label.frame")
FRAME_PLACEHOLDER = "attachment://last-frame.jpg"
"""Where the Continue frame stands until the new reply carrying it gives it a public URL."""


@dataclass(frozen=True)
class Lineage:
    """How a job was made: ``origin`` (see ``hh_bot.jobs.model.ORIGINS``), the job it iterates
    on, and for "Make video" jobs the message its images came from."""

    origin: str = "command"
    parent_id: str | None = None
    source_channel_id: int | None = None
    source_message_id: int | None = None


COMMAND = Lineage()
"""A job made by /video: no parent, no source message."""


@dataclass(frozen=True)
class StoredReferences:
    """An earlier job's references, split into what is reused and what is checked again."""

    kept: tuple[Reference, ...]  # Discord attachments
    links: tuple[str, ...]  # anything else: checked again like a new link

    @property
    def count(self) -> int:
        return len(self.kept) + len(self.links)


def stored_references(params: JobParams) -> StoredReferences:
    kept: list[Reference] = []
    links: list[str] = []
    for label, url in zip(params.image_labels, params.image_urls, strict=False):
        if is_discord_attachment(url):
            kept.append(Reference(label=label, url=url, source="attachment"))
        else:
            links.append(url)
    return StoredReferences(tuple(kept), tuple(links))


def expired(refs: StoredReferences, now: float) -> list[Reference]:
    """The kept attachments whose signed URL has run out (or is about to)."""
    return [ref for ref in refs.kept if is_expired(ref.url, now)]


def with_urls(refs: StoredReferences, fresh: dict[str, str]) -> StoredReferences:
    """``refs`` with the attachment URLs in ``fresh`` (old URL → new URL) replaced."""
    kept = tuple(replace(r, url=fresh.get(r.url, r.url)) for r in refs.kept)
    return replace(refs, kept=kept)


def replace_first(refs: StoredReferences) -> StoredReferences:
    """``refs`` without its first reference (a Remix's uploaded image takes its place)."""
    if refs.kept:
        return replace(refs, kept=refs.kept[1:])
    return replace(refs, links=refs.links[1:])


def continued(refs: StoredReferences) -> StoredReferences:
    """The references of a Continue: the last frame first, then the earlier job's references,
    the last of them dropped when there would be more than ``MAX_REFERENCES``."""
    frame = Reference(label=FRAME_LABEL, url=FRAME_PLACEHOLDER, source="attachment")
    kept, links = (frame, *refs.kept), refs.links
    while len(kept) + len(links) > MAX_REFERENCES:
        if links:
            links = links[:-1]
        else:
            kept = kept[:-1]
    return StoredReferences(kept, links)


def frame_source(job: Job) -> str | None:
    """The job whose archived original gave ``job``'s first reference, when it is a Continue's
    frame: a Retry or Remix takes that frame again, fresh, since the frame's attachment went
    with the reply it was posted on once the result replaced it. None otherwise."""
    if job.origin == "continue" and job.params.image_labels[:1] == (FRAME_LABEL,):
        return job.parent_id
    return None


def without_frame(job: Job) -> JobParams:
    """``job``'s parameters without a Continue's frame (see ``frame_source``)."""
    p = job.params
    if frame_source(job) is None:
        return p
    return replace(p, image_urls=p.image_urls[1:], image_labels=p.image_labels[1:])


def with_frame(params: JobParams, url: str | None) -> JobParams:
    """The Continue frame's public URL put in place of its placeholder; without a URL (the reply
    carrying it was not posted) the frame is left out rather than sent as a broken link."""
    labels: list[str] = []
    urls: list[str] = []
    for label, old in zip(params.image_labels, params.image_urls, strict=False):
        if old == FRAME_PLACEHOLDER:
            if url is None:
                continue
            old = url
        labels.append(label)
        urls.append(old)
    return replace(params, image_labels=tuple(labels), image_urls=tuple(urls))


def new_seed(old: int | None) -> int:
    """A random seed for a Retry, never the earlier job's."""
    while True:
        seed = secrets.randbelow(MAX_SEED + 1)
        if seed != old:
            return seed
