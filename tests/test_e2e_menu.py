"""The "Make video" message menu and its modal, end to end over the fake Discord."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cogs.ui import strings as s
from hh_bot.errors import BadInput
from tests.bot_world import BotWorld, bot_world, modal_inputs, offline_checker
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import BOB_ID, GUILD_ID, StoredMessage
from tests.fakes.images import image_host

MENU = s.MAKE_VIDEO_MENU


async def open_modal(w: BotWorld, message: StoredMessage, user: Any = "alice") -> dict[str, Any]:
    """Run the menu on ``message``; return the modal the bot opened."""
    before = len(w.discord.modals)
    await w.discord.invoke_message_command(MENU, message.id, user=user)
    await w.discord.wait_for(lambda: len(w.discord.modals) > before)
    return w.discord.modals[-1].data


async def submit(w: BotWorld, modal: dict[str, Any], **values: str) -> FakeInteraction:
    return await w.discord.submit_modal(str(modal["custom_id"]), values, enforce=False)


def media_urls(w: BotWorld) -> list[str]:
    return [m["url"] for m in w.hh.creates()[-1].json["input"]["media"]]


async def test_menu_on_a_message_with_images_makes_the_video(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        await w.services.policy.set_default(GUILD_ID, "duration", 8)
        await w.services.policy.set_default(GUILD_ID, "ratio", "1:1")
        images = [w.image("cat.png"), w.image("dog.webp", content_type="image/webp")]
        notes = {"filename": "notes.txt", "data": b"hello", "content_type": "text/plain"}
        message = await w.discord.post_user_message(
            content="my pets", attachments=[images[0], notes, images[1]], user=BOB_ID
        )
        modal = await open_modal(w, message)
        assert modal["title"] == s.MODAL_TITLE
        inputs = modal_inputs(modal)
        assert inputs["prompt"]["required"] is not False and not inputs["prompt"].get("value")
        assert inputs["resolution"]["value"] == "720P"
        assert inputs["duration"]["value"] == "8"  # the server's default, prefilled
        assert inputs["ratio"]["value"] == "1:1"
        assert not inputs["seed"].get("value")
        assert w.creates() == 0  # opening the modal spends nothing

        handle = await submit(w, modal, prompt="character1 chases character2", seed="7")
        assert "accepted" in await w.private_answer(handle)
        result = await w.outcome(handle)
        assert [a.data for a in result.attachments] == [w.hh.video_bytes]
        assert media_urls(w) == [images[0]["url"], images[1]["url"]]
        body = w.hh.creates()[0].json
        assert body["input"]["prompt"] == "character1 chases character2"
        params = body["parameters"]
        assert (params["duration"], params["ratio"], params["seed"]) == (8, "1:1", 7)
        assert handle.user.id != BOB_ID and f"<@{handle.user.id}>" in result.content


async def test_menu_takes_image_embeds_as_links(tmp_path: Path) -> None:
    async with image_host() as host:
        link, other = host.url("/ok.png"), host.url("/ok.jpg")
        async with bot_world(tmp_path, checker=offline_checker(host.client_ssl)) as w:
            attachment = w.image()
            embeds = [
                {"type": "image", "url": link},
                {"type": "rich", "title": "look", "image": {"url": other}},
            ]
            message = await w.discord.post_user_message(
                content=link, attachments=[attachment], embeds=embeds
            )
            modal = await open_modal(w, message)
            handle = await submit(w, modal, prompt="character1 waves", resolution="1080P")
            result = await w.outcome(handle)
            assert [a.data for a in result.attachments] == [w.hh.video_bytes]
            assert media_urls(w) == [attachment["url"], link, other]
            assert w.hh.creates()[0].json["parameters"]["resolution"] == "1080P"


async def test_menu_on_a_message_without_images_answers_privately(tmp_path: Path) -> None:
    async with bot_world(tmp_path, allow_errors=(BadInput,)) as w:
        notes = {"filename": "notes.txt", "data": b"hello", "content_type": "text/plain"}
        message = await w.discord.post_user_message(content="no pictures", attachments=[notes])
        handle = await w.discord.invoke_message_command(MENU, message.id)
        assert await w.private_answer(handle) == s.BAD_INPUT["no_message_images"]
        assert not w.discord.modals
        assert w.public_messages() == [message]
        assert w.creates() == 0 and await w.rows() == (0, 0)


async def test_bad_modal_values_answer_privately_and_the_modal_can_be_fixed(
    tmp_path: Path,
) -> None:
    async with bot_world(tmp_path) as w:
        message = await w.discord.post_user_message(attachments=[w.image()])
        modal = await open_modal(w, message)
        cases = [
            ({"prompt": "   \n "}, s.BAD_INPUT["empty_prompt"]),
            ({"prompt": "ok", "duration": "99"}, s.BAD_INPUT["bad_duration"]),
            ({"prompt": "ok", "duration": "five"}, s.BAD_INPUT["bad_duration"]),
            ({"prompt": "ok", "resolution": "480P"}, s.BAD_INPUT["bad_resolution"]),
            ({"prompt": "ok", "ratio": "2:1"}, s.BAD_INPUT["bad_ratio"]),
            ({"prompt": "ok", "seed": "-1"}, s.BAD_INPUT["bad_seed"]),
            ({"prompt": "ok", "seed": "lucky"}, s.BAD_INPUT["bad_seed"]),
        ]
        for values, expected in cases:
            handle = await submit(w, modal, **values)
            assert await w.private_answer(handle) == expected, values
        assert w.public_messages() == [message]
        assert w.creates() == 0 and await w.rows() == (0, 0)
        # The same modal still works once the values are right.
        handle = await submit(w, modal, prompt="character1 smiles", duration="3")
        result = await w.outcome(handle)
        assert [a.data for a in result.attachments] == [w.hh.video_bytes]
        assert w.hh.creates()[0].json["parameters"]["duration"] == 3
