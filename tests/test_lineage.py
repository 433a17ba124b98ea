"""Lineage and reference expiry in the core: what a job records about where it came from (on
SQLite and PostgreSQL), how a Discord URL's expiry is read, and how an earlier job's references
become a new job's (kept, re-checked, replaced, continued)."""

from __future__ import annotations

from dataclasses import replace

from hh_bot.jobs.lineage import (
    FRAME_PLACEHOLDER,
    continued,
    expired,
    new_seed,
    replace_first,
    stored_references,
    with_frame,
    with_urls,
)
from hh_bot.jobs.model import Job, JobParams, ReplyTarget
from hh_bot.references.expiry import attachment_key, expires_at, is_discord_attachment, is_expired
from hh_bot.store.interface import Store

T0 = 1_750_000_000.0
CDN = "https://cdn.discordapp.com/attachments/1/{n}/a{n}.png"


def signed(url: str, ex: float) -> str:
    return f"{url}?ex={int(ex):x}&is={int(T0):x}&hm=abc&"


def params(*urls: str) -> JobParams:
    labels = tuple(f"image{n}" for n in range(1, len(urls) + 1))
    return JobParams("a horse", tuple(urls), labels, "720P", 5, "16:9", False)


def test_expiry_is_read_from_the_signed_url() -> None:
    url = signed(CDN.format(n=1), T0 + 3600)
    assert expires_at(url) == T0 + 3600
    assert not is_expired(url, T0) and is_expired(url, T0 + 3000)  # within the safety margin
    assert expires_at(CDN.format(n=1)) is None and not is_expired(CDN.format(n=1), T0 + 1e9)
    assert expires_at("https://cdn.discordapp.com/x.png?ex=zz") is None
    assert attachment_key(url) == "/attachments/1/1/a1.png"
    assert is_discord_attachment(url)
    assert not is_discord_attachment("https://images.example.com/attachments/1/2/a.png")


def test_stored_references_split_kept_attachments_from_links() -> None:
    link = "https://images.example.com/ok.png"
    old, fresh = signed(CDN.format(n=1), T0 - 10), signed(CDN.format(n=2), T0 + 86400)
    refs = stored_references(params(old, fresh, link))
    assert [r.url for r in refs.kept] == [old, fresh] and refs.links == (link,)
    assert [r.url for r in expired(refs, T0)] == [old]
    renewed = with_urls(refs, {old: "https://cdn.discordapp.com/attachments/1/1/a1.png?ex=1"})
    assert renewed.kept[0].url.endswith("?ex=1") and renewed.kept[1].url == fresh
    assert [r.url for r in replace_first(refs).kept] == [fresh]
    assert replace_first(stored_references(params(link))).links == ()


def test_continue_puts_the_frame_first_and_drops_the_last_at_ten() -> None:
    urls = [CDN.format(n=n) for n in range(1, 9)] + ["https://images.example.com/9.png"]
    refs = continued(stored_references(params(*urls)))
    assert refs.count == 9 and refs.kept[0].url == FRAME_PLACEHOLDER
    assert refs.links == (), "the ninth, the last, is dropped"
    job_params = params(FRAME_PLACEHOLDER, urls[0])
    assert with_frame(job_params, "https://cdn/f.jpg").image_urls == ("https://cdn/f.jpg", urls[0])
    left = with_frame(job_params, None)
    assert left.image_urls == (urls[0],) and left.image_labels == ("image2",)


def test_a_retry_seed_is_never_the_old_one() -> None:
    assert all(0 <= new_seed(7) <= 2_147_483_647 and new_seed(7) != 7 for _ in range(50))


async def test_lineage_round_trips_through_the_store(store: Store) -> None:
    base = Job(
        id="a1b2c3d4e5",
        user_id=1,
        guild_id=100,
        params=params(CDN.format(n=1)),
        reply=ReplyTarget(10, 20, "tok", T0 + 900),
        cost=630,
        created_at=T0,
        updated_at=T0,
    )
    child = replace(
        base, id="f6e5d4c3b2", user_id=2, parent_id=base.id, origin="retry",
        source_channel_id=2**60, source_message_id=2**61,
    )  # fmt: skip
    for job in (base, child):
        async with store.transaction() as tx:
            await tx.insert_job(job)
    assert await store.get_job(base.id) == base and base.origin == "command"
    assert await store.get_job(child.id) == child
