"""Two languages end to end: the fake Discord sends interactions with the reader's ``locale`` and
the server's ``guild_locale``; what reaches its wire is checked. A zh-CN reader's private answers,
modal and button answers are Chinese; the public progress reply, its buttons and the result
follow the server's locale (whoever started the job); en-US readers see the English of before.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cogs.ui import strings as s
from hh_bot.errors import BadInput
from hh_bot.i18n import using_locale
from hh_bot.jobs.model import Job, JobState, ReplyTarget
from tests.bot_world import BotWorld, bot_world, default_limits
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import (
    ALICE_ID,
    BOB_ID,
    TEXT_CHANNEL_ID,
    StoredMessage,
    walk_components,
)
from tests.fakes.happyhorse import TaskScript
from tests.test_e2e_delivery import outlive_the_token
from tests.waiting import eventually

ZH = "zh-CN"
HOLD = 864000.0  # a task that runs until the test finishes it
ONE_SLOT = replace(default_limits(), global_active_cap=1)


def zh(text: str) -> str:
    """A catalogue string as a zh-CN reader gets it (format inside ``using_locale``)."""
    with using_locale(ZH):
        return str(text)


def speak(w: BotWorld, *, user: str = "en-US", guild: str = "en-US", who: int = ALICE_ID) -> None:
    w.discord.user(who).locale = user
    w.discord.guild.locale = guild


async def the_job(w: BotWorld, *states: JobState) -> Job:
    async def probe() -> Job | None:
        jobs = await w.services.store.user_jobs(ALICE_ID, limit=5)
        return next((j for j in jobs if not states or j.state in states), None)

    return await eventually(probe, what=f"alice's job in {states}")


def embed_text(message: StoredMessage) -> str:
    """Everything an embed shows as text: title, description, field names/values, footer."""
    parts: list[str] = []
    for embed in message.embeds:
        parts += [str(embed.get("title", "")), str(embed.get("description", ""))]
        for f in embed.get("fields", []):
            parts += [str(f["name"]), str(f["value"])]
        parts.append(str((embed.get("footer") or {}).get("text", "")))
    return "\n".join(parts)


def labels(message: StoredMessage) -> list[str]:
    return [str(c["label"]) for c in walk_components(message.components) if "label" in c]


async def answer(w: BotWorld, click: FakeInteraction) -> str:
    message = await w.discord.wait_for_original(
        click.token, until=lambda m: bool(m.content) and not m.loading, timeout=10
    )
    assert message.ephemeral
    return str(message.content)


async def test_a_zh_cn_server_and_reader_see_chinese_on_every_surface(tmp_path: Path) -> None:
    async with bot_world(tmp_path, limits=ONE_SLOT, poll_deadline=HOLD) as w:
        speak(w, user=ZH, guild=ZH)
        w.hh.scripts.append(TaskScript(duration=HOLD))
        handle = await w.video("character1 在海边骑马")
        job = await the_job(w)
        assert (job.reply.locale, job.reply.guild_locale) == (ZH, ZH)  # kept for the runner
        private = await w.private_answer(handle)
        with using_locale(ZH):
            assert private == s.STARTED_PRIVATE.format(job_id=job.id, cost=s.money(job.cost))
        assert "已受理" in private and "美元" in private

        reply = await w.wait_reply(handle)
        shown = embed_text(reply)
        for part in ("视频任务", "提示词", "设置", "参考图", "费用", "任务 " + job.id, "美元"):
            assert part in shown, (part, shown)
        assert "种子 随机" in shown and "水印 关" in shown
        assert "Video job" not in shown and "Settings" not in shown
        assert labels(reply) == [zh(s.CANCEL)] == ["取消"]

        # Somebody else clicks Cancel: refused, privately, in Chinese
        speak(w, user=ZH, guild=ZH, who=BOB_ID)
        refused = await w.discord.click_button(reply.id, f"hh:cancel:{job.id}", user=BOB_ID)
        assert await answer(w, refused) == zh(s.NOT_YOURS)

        # The runner's progress edits, in the server's language
        await w.discord.wait_for(lambda: zh(s.STATE_LABEL[JobState.RUNNING]) in embed_text(reply))
        task = next(iter(w.hh.tasks.values()))
        task.script = replace(task.script, duration=w.clock.now() - task.created_at)
        await the_job(w, JobState.DONE)
        await w.discord.wait_for(lambda: zh(s.STATE_LABEL[JobState.DONE]) in embed_text(reply))
        assert reply.content == f"<@{ALICE_ID}> 你的视频已生成。"
        assert labels(reply) == ["重试", "改编", "续拍", "参数", "删除"]
        assert reply.files, "the video is uploaded with the Chinese result"

        # /quota, a private card: Chinese title and money
        card = await w.discord.invoke_slash("quota", {})
        message = await w.discord.wait_for_original(
            card.token, until=lambda m: bool(m.embeds) and not m.loading, timeout=10
        )
        assert message.embeds[0]["title"] == "你的视频额度"


async def test_channel_posts_follow_the_server_and_answers_the_reader(tmp_path: Path) -> None:
    """An English reader on a Chinese server: private answer English, channel posts Chinese;
    then a Chinese reader on an English server: the other way round."""
    async with bot_world(tmp_path) as w:
        speak(w, user="en-US", guild=ZH)
        first = await w.video("an english reader")
        private = await w.private_answer(first)
        assert private.startswith("Job `") and "accepted" in private
        reply = await w.wait_reply(first)
        assert str(reply.embeds[0]["title"]).startswith("视频任务 ")
        await w.discord.wait_for(lambda: "✅ 已完成" in embed_text(reply))
        assert "你的视频已生成" in reply.content

        speak(w, user=ZH, guild="en-GB")
        second = await w.video("一位中文读者")
        assert "已受理" in await w.private_answer(second)
        reply = await w.wait_reply(second)
        assert str(reply.embeds[0]["title"]).startswith("Video job ")
        await w.discord.wait_for(lambda: "✅ Done" in embed_text(reply))
        assert reply.content == s.READY.format(user_id=ALICE_ID)
        assert labels(reply) == RESULT_LABELS


async def test_bad_input_is_refused_in_chinese_and_costs_nothing(tmp_path: Path) -> None:
    async with bot_world(tmp_path, allow_errors=(BadInput,)) as w:
        speak(w, user=ZH, guild="en-US")
        none = await w.video(images=[])
        assert await w.private_answer(none) == zh(s.BAD_INPUT["no_images"])
        link = await w.video(images=[], urls="http://example.com/a.png")
        refused = await w.private_answer(link)
        assert refused == "链接 1 有问题：只接受 https 链接（实际为 http）", refused
        assert w.creates() == 0 and await w.rows() == (0, 0)


async def test_the_make_video_modal_and_its_refusals_are_chinese(tmp_path: Path) -> None:
    """A class-level ``Modal(title=...)`` and ``TextInput(label=...)`` never pass ``str()``:
    they must still reach the wire in the reader's language."""
    async with bot_world(tmp_path, allow_errors=(BadInput,)) as w:
        speak(w, user=ZH, guild=ZH)
        message = await w.discord.post_user_message(attachments=[w.image()])
        await w.discord.invoke_message_command(s.MAKE_VIDEO_MENU, message.id)
        await w.discord.wait_for(lambda: bool(w.discord.modals))
        modal = w.discord.modals[-1].data
        # discord.py files the modal under its id only once the answer to the menu came back:
        # a submit arriving before that would be dropped (a harness race, not a user's)
        store = w.bot._connection._view_store
        await w.discord.wait_for(lambda: modal["custom_id"] in store._modals)
        assert modal["title"] == "用这条消息生成视频"
        inputs = [c for c in walk_components(modal["components"]) if c.get("type") == 4]
        shown = [str(c.get("label")) for c in inputs]
        assert "提示词" in shown and "种子（可选）" in shown, shown
        assert any(c.get("placeholder") == zh(s.MODAL_PROMPT_HINT) for c in inputs)
        values = {
            "prompt": "character1 挥手",
            "resolution": "480P",
            "duration": "5",
            "ratio": "16:9",
        }
        sent = await w.discord.submit_modal(str(modal["custom_id"]), values, enforce=False)
        assert await w.private_answer(sent) == "分辨率必须是 720P 或 1080P。"
        assert w.creates() == 0


RESULT_LABELS = ["Retry", "Remix", "Continue", "Parameters", "Delete"]


async def test_english_readers_see_no_change(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        handle = await w.video()
        job = await the_job(w)
        assert await w.private_answer(handle) == (
            f"Job `{job.id}` accepted ({s.money(job.cost)} reserved). Follow it in the reply below."
        )
        assert s.money(job.cost).startswith("$")
        reply = await w.wait_reply(handle)
        assert reply.embeds[0]["footer"]["text"] == f"job {job.id}"
        assert "seed random · watermark off" in embed_text(reply)
        assert labels(reply) == ["Cancel"]


async def test_a_dm_speaks_the_users_language_not_the_servers(tmp_path: Path) -> None:
    """The channel refuses the result after the token ran out: the DM that carries it instead
    is built again in the user's language (English), not the server's (Chinese)."""
    async with bot_world(tmp_path, script=TaskScript(duration=1000), factor=400.0) as w:
        speak(w, user="en-US", guild=ZH)
        w.discord.deny_channel_send(TEXT_CHANNEL_ID)
        handle = await w.video()
        reply = await w.wait_reply(handle)
        assert str(reply.embeds[0]["title"]).startswith("视频任务 ")
        await outlive_the_token(w, handle)
        job = await the_job(w)
        dm = await w.discord.wait_for(
            lambda: next(iter(w.discord.dm_messages(handle.user)), None), timeout=15
        )
        assert dm.content == s.READY.format(user_id=ALICE_ID)
        assert dm.embeds[0]["title"] == f"Video job {job.id}"
        assert "✅ Done" in embed_text(dm) and labels(dm) == RESULT_LABELS


def test_reply_targets_keep_their_locales_and_older_ones_load_as_english() -> None:
    """Jobs stored before issue #10 have no locales in their reply JSON: they load (English)."""
    target = ReplyTarget(1, 2, "token", 3.0, locale=ZH, guild_locale="en-GB")
    assert ReplyTarget.from_json(target.to_json()) == target
    older = {k: v for k, v in target.to_json().items() if k not in ("locale", "guild_locale")}
    loaded = ReplyTarget.from_json(older)
    assert (loaded.locale, loaded.guild_locale) == (None, None)
    with using_locale(loaded.guild_locale):
        assert str(s.DELETE) == "Delete"
