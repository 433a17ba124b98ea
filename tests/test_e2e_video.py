"""/video end to end: slash commands over the fake gateway, the fake HappyHorse server behind,
reference links probed on a local HTTPS host. What users see is read off the fake's wire."""

from __future__ import annotations

import asyncio
import itertools
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cogs.ui import strings as s
from hh_bot.jobs.model import JobState
from tests.bot_world import BotWorld, bot_world, default_limits, offline_checker
from tests.fakes import happyhorse_shapes as shapes
from tests.fakes.discord_payloads import BOB_ID, CAROL_ID, StoredMessage
from tests.fakes.discord_rest import RecordedRequest
from tests.fakes.happyhorse import FakeHappyHorse, FakeTask, TaskScript
from tests.fakes.images import image_host
from tests.waiting import eventually

RELATIVE = re.compile(r"<t:\d+:R>")


def media_urls(w: BotWorld, index: int = 0) -> list[str]:
    return [m["url"] for m in w.hh.creates()[index].json["input"]["media"]]


def fields(embed: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed.get("fields", [])}


@pytest.mark.two_bots
async def test_video_with_attachment_delivers_the_exact_bytes(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        w.hh.video_bytes = bytes(range(256)) * 1200  # 300 KB, distinct from the default
        handle = await w.video()
        private = await w.private_answer(handle)
        assert "accepted" in private
        result = await w.outcome(handle)
        assert result is w.reply_of(handle), "while the token lives the reply becomes the result"
        assert [a.data for a in result.attachments] == [w.hh.video_bytes]
        assert result.content == s.READY.format(user_id=handle.user.id)
        assert w.creates() == 1
        assert media_urls(w)[0].startswith("https://cdn.discordapp.com/")
        # One job, reserved then committed (settled right after the delivery).
        assert await eventually(lambda: _rows_if(w, (1, 2))) == (1, 2)


async def test_video_with_links_only(tmp_path: Path) -> None:
    async with image_host() as host:
        links = [host.url("/ok.png"), host.url("/to-other")]
        checker = offline_checker(host.client_ssl)
        async with bot_world(tmp_path, checker=checker) as w:
            handle = await w.video(images=[], urls="\n".join(links))
            result = await w.outcome(handle)
            assert [a.data for a in result.attachments] == [w.hh.video_bytes]
            assert media_urls(w) == links
            refs = fields(result.embeds[0])[s.FIELD_REFERENCES]
            assert refs == f"[link 1]({links[0]}) · [link 2]({links[1]})"
        probed = {(seen.method, seen.path) for seen in host.requests}
        assert ("HEAD", "/ok.png") in probed and ("HEAD", "/ok.jpg") in probed


async def test_video_with_attachments_and_links(tmp_path: Path) -> None:
    async with image_host() as host:
        link = host.url("/ok.webp")
        async with bot_world(tmp_path, checker=offline_checker(host.client_ssl)) as w:
            images = [w.image("a.png"), w.image("b.jpg", content_type="image/jpeg")]
            handle = await w.video(images=images, urls=f"<{link}>", duration=8, seed=42)
            result = await w.outcome(handle)
            assert [a.data for a in result.attachments] == [w.hh.video_bytes]
            urls = media_urls(w)
            assert urls[:2] == [images[0]["url"], images[1]["url"]] and urls[2] == link
            params = w.hh.creates()[0].json["parameters"]
            assert params["duration"] == 8 and params["seed"] == 42
            assert params["resolution"] == "720P" and params["watermark"] is False
            embed = result.embeds[0]
            assert "8s" in fields(embed)[s.FIELD_SETTINGS]
            assert "seed 42" in fields(embed)[s.FIELD_SETTINGS]
            assert embed["thumbnail"]["url"] == images[0]["url"]


async def _rows_if(w: BotWorld, wanted: tuple[int, int]) -> tuple[int, int] | None:
    rows = await w.rows()
    return rows if rows == wanted else None


class SmoothHappyHorse(FakeHappyHorse):
    """Progress grows with every poll (the real API reports it in small steps)."""

    def _view(self, task: FakeTask | None, now: float) -> shapes.TaskView | None:
        view = super()._view(task, now)
        if task is None or view is None or view.phase != "in_progress":
            return view
        age = now - task.created_at
        return replace(view, progress=min(99, int(100 * age / task.script.duration)))


def edit_state(edit: RecordedRequest) -> str:
    embeds = (edit.json or {}).get("embeds") or [{}]
    return str(embeds[0].get("description", "")).split("\n", 1)[0]


async def test_progress_edits_are_throttled_and_show_state_bar_eta_and_params(
    tmp_path: Path,
) -> None:
    # Edits are gated when the bot decides them; Discord sees them when they arrive, which a
    # busy machine delays. At 100x, 150 ms of real delay is ``interval / 2`` of virtual time: the
    # bounds below allow that much between decision and arrival, so they hold under CPU load.
    interval, factor = 30.0, 100.0
    slack = interval / 2
    async with bot_world(
        tmp_path,
        hh_class=SmoothHappyHorse,
        script=TaskScript(duration=300),
        factor=factor,
        progress_edit_interval=interval,
        poll_first_delay=3.0,
        poll_interval=3.0,
    ) as w:
        handle = await w.video(duration=6, ratio="9:16")
        result = await w.outcome(handle)
        reply = w.reply_of(handle)
        assert reply is not None and result is reply
        edits = w.discord.edits_of(reply.id)
        states = [edit_state(e) for e in edits]
        running = [e for e in edits if edit_state(e) == f"**{s.STATE_LABEL[JobState.RUNNING]}**"]
        # More visible changes (a new percentage on every poll) than edits: the throttle held
        # some back. (How many polls fit in the task depends on the machine: each poll's real
        # round trip is virtual time too. ~24 on an idle machine, fewer under load.)
        task_polls = len(w.hh.polls())
        assert task_polls > len(running), (task_polls, len(running))
        # … but at most one edit per interval within a state, plus one per state change.
        span = (running[-1].at - running[0].at) * factor
        assert len(running) <= (span + slack) / interval + 1, (len(running), span)
        for before, after in itertools.pairwise(running):
            assert (after.at - before.at) * factor >= interval - slack
        assert len(running) >= 3, "the reply must move while generating"
        changes = sum(1 for a, b in itertools.pairwise(states) if a != b) + 1
        assert len(edits) <= len(running) + changes + 1
        # What a generating reply shows.
        body = running[-1].json["embeds"][0]
        text = body["description"]
        assert "▰" in text and re.search(r" \d+%", text)
        assert RELATIVE.search(text.split(s.ETA.split("{", 1)[0], 1)[1])
        settings = fields(body)[s.FIELD_SETTINGS]
        assert settings.startswith("720P · 6s · 9:16 · seed random")
        assert fields(body)[s.FIELD_REFERENCES].startswith("[image1](https://cdn.discordapp.com/")
        assert body["footer"]["text"] == s.FOOTER.format(job_id=w.job_id_of(handle))


def queue_positions(w: BotWorld, reply: StoredMessage) -> list[int]:
    found = []
    for edit in w.discord.edits_of(reply.id):
        match = re.search(r"Position in queue: \*\*(\d+)\*\*", edit_state_text(edit))
        if match:
            found.append(int(match.group(1)))
    return found


def edit_state_text(edit: RecordedRequest) -> str:
    embeds = (edit.json or {}).get("embeds") or [{}]
    return str(embeds[0].get("description", ""))


@pytest.mark.two_bots
async def test_queue_position_shown_and_updated_under_the_global_cap(tmp_path: Path) -> None:
    limits = replace(default_limits(), global_active_cap=1)
    short = TaskScript(duration=60)
    async with bot_world(tmp_path, limits=limits, script=short, poll_deadline=864000) as w:
        # The first holds the slot until both others are queued (150 virtual seconds were
        # 0.75 s of real time, which a busy machine can spend before the third arrives).
        w.hh.scripts.append(TaskScript(duration=864000))
        first = await w.video(user="alice")
        await w.wait_reply(first)
        second = await w.video(user=BOB_ID)
        await w.wait_reply(second)
        third = await w.video(user=CAROL_ID)
        third_reply = await w.wait_reply(third)
        await w.discord.wait_for(lambda: queue_positions(w, third_reply) == [2])
        [task] = [t for t in w.hh.tasks.values() if t.script.duration == 864000]
        task.script = replace(task.script, duration=w.clock.now() - task.created_at)
        for handle in (first, second, third):
            result = await w.outcome(handle)
            assert [a.data for a in result.attachments] == [w.hh.video_bytes]
        second_reply, third_reply = w.reply_of(second), w.reply_of(third)
        assert second_reply is not None and third_reply is not None
        assert queue_positions(w, second_reply) == [1]
        assert queue_positions(w, third_reply) == [2, 1]
        assert w.hh.max_active == 1
        assert w.creates() == 3


@pytest.mark.two_bots
async def test_ten_users_at_once_each_get_exactly_one_result(tmp_path: Path) -> None:
    async with bot_world(tmp_path, script=TaskScript(duration=60)) as w:
        users = [w.add_member(f"user{i}") for i in range(10)]
        handles = await asyncio.gather(
            *(w.video(f"character1 number {i} dances", user=u) for i, u in enumerate(users))
        )
        results = [await w.outcome(h) for h in handles]
        assert len({r.id for r in results}) == 10
        for user, result in zip(users, results, strict=True):
            assert [a.data for a in result.attachments] == [w.hh.video_bytes]
            assert f"<@{user.id}>" in result.content
        with_video = [m for m in w.public_messages() if m.attachments]
        assert len(with_video) == 10
        for user in users:
            assert sum(f"<@{user.id}>" in m.content for m in with_video) == 1
        prompts = sorted(c.json["input"]["prompt"] for c in w.hh.creates())
        assert prompts == sorted(f"character1 number {i} dances" for i in range(10))
        assert w.creates() == 10
        assert all(not w.discord.dm_messages(u) for u in users)


async def test_rate_limited_edit_is_absorbed(tmp_path: Path) -> None:
    async with bot_world(tmp_path, script=TaskScript(duration=30)) as w:
        w.discord.rate_limit_next("PATCH", r"^/webhooks/\d+/[^/]+/messages/\d+$", times=2)
        handle = await w.video()
        result = await w.outcome(handle)
        assert [a.data for a in result.attachments] == [w.hh.video_bytes]
        assert w.discord.rate_limited_count == 2
        assert len(w.public_messages()) == 1


async def test_nine_long_references_fit_the_embed_without_broken_links(tmp_path: Path) -> None:
    async with bot_world(tmp_path, script=TaskScript(duration=20)) as w:
        sig = "?ex=6650a1b2&is=664f5032&hm=" + "ab12" * 16 + "&"
        long_url = "https://cdn.discordapp.com/attachments/1250000000000000200/{n}/pic{n}.png" + sig
        images = [w.image(f"pic{n}.png", url=long_url.format(n=n) + "x" * 60) for n in range(9)]
        handle = await w.video(images=images)
        result = await w.outcome(handle)
        assert len(media_urls(w)) == 9
        refs = fields(result.embeds[0])[s.FIELD_REFERENCES]
        assert len(refs) <= 1024
        parts = refs.split(" · ")
        shown = [p for p in parts if p.startswith("[")]
        assert 1 <= len(shown) < 9
        for n, part in enumerate(shown):
            assert part == f"[image{n + 1}]({images[n]['url']})"
        assert parts[-1] == s.MORE_REFERENCES.format(count=9 - len(shown))
