"""Every bad input, sent as a real interaction, gets a private answer to that user only and
spends nothing: no create call, no job, no ledger row, no message in the channel.

Values a Discord client would refuse to send (empty prompt, out-of-range numbers, values that
are not among the choices) go through ``invoke_raw`` unchecked, as a modified client could.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from cogs.ui import strings as s
from hh_bot.errors import HHError
from tests.bot_world import (
    BotWorld,
    bot_world,
    default_limits,
    dm_payload,
    offline_checker,
)
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import ALICE_ID, GUILD_ID, TEXT_CHANNEL_ID
from tests.fakes.images import PRIVATE_IMAGES, ImageServer, image_host

MB = 1024 * 1024
Opts = Callable[[BotWorld, ImageServer], dict[str, Any]]


@dataclass
class Bad:
    options: Opts  # the /video options (images as image1…)
    expect: str  # the answer, or a part of it
    raw: bool = False  # a client would refuse: push the payload unchecked
    secret: str | None = None  # text that must not appear in the answer
    extra: dict[str, Any] = field(default_factory=dict)


def one_image(**options: Any) -> Opts:
    return lambda w, host: {"prompt": "character1 waves", "image1": w.image(), **options}


def attachment(**meta: Any) -> Opts:
    return lambda w, host: {"prompt": "character1 waves", "image1": w.image(**meta)}


def links(*paths: str, attach: bool = False) -> Opts:
    def build(w: BotWorld, host: ImageServer) -> dict[str, Any]:
        urls = [p if "://" in p else host.url(p) for p in paths]
        opts: dict[str, Any] = {"prompt": "character1 waves", "urls": " ".join(urls)}
        if attach:
            opts["image1"] = w.image()
        return opts

    return build


def problem(image: str, detail: str = "") -> str:
    return f"Problem with {image}: {detail}"


CDN_HTTP = "http://cdn.discordapp.com/attachments/1/2/x.png"

BAD: dict[str, Bad] = {
    "empty prompt": Bad(one_image(prompt=""), s.BAD_INPUT["empty_prompt"], raw=True),
    "blank prompt": Bad(one_image(prompt="  \n\t  "), s.BAD_INPUT["empty_prompt"]),
    "prompt of control characters": Bad(
        one_image(prompt="\u200b\x00\u0007"), s.BAD_INPUT["empty_prompt"]
    ),
    "prompt over 5000": Bad(one_image(prompt="a" * 5001), s.BAD_INPUT["long_prompt"], raw=True),
    "duration 1": Bad(one_image(duration=1), s.BAD_INPUT["bad_duration"], raw=True),
    "duration 16": Bad(one_image(duration=16), s.BAD_INPUT["bad_duration"], raw=True),
    "seed -1": Bad(one_image(seed=-1), s.BAD_INPUT["bad_seed"], raw=True),
    "seed 2**31": Bad(one_image(seed=2**31), s.BAD_INPUT["bad_seed"], raw=True),
    "resolution 480P": Bad(one_image(resolution="480P"), s.BAD_INPUT["bad_resolution"], raw=True),
    "ratio 2:1": Bad(one_image(ratio="2:1"), s.BAD_INPUT["bad_ratio"], raw=True),
    "no images": Bad(lambda w, h: {"prompt": "character1 waves"}, s.BAD_INPUT["no_images"]),
    "blank urls only": Bad(
        lambda w, h: {"prompt": "character1 waves", "urls": "  \n "}, s.BAD_INPUT["no_images"]
    ),
    "10 images": Bad(
        lambda w, h: {
            "prompt": "character1 waves",
            **{f"image{i}": w.image(f"{i}.png") for i in range(1, 10)},
            "urls": h.url("/ok.png"),
        },
        s.BAD_INPUT["too_many_images"],
    ),
    "text attachment": Bad(
        attachment(name="notes.txt", content_type="text/plain"), problem("image1", "is text/plain")
    ),
    "20 MB attachment": Bad(attachment(size=20 * MB), problem("image1", "is 20.0 MB")),
    "300x300 attachment": Bad(
        attachment(width=300, height=300), problem("image1", "is 300×300, the short side")
    ),
    "attachment without size in pixels": Bad(
        attachment(width=None, height=None), problem("image1", "is not an image Discord")
    ),
    "attachment over http": Bad(attachment(url=CDN_HTTP), problem("image1", "is not an https")),
    "attachment off the CDN": Bad(
        attachment(url="https://evil.example.net/a.png"), problem("image1", "is not hosted")
    ),
    "http link": Bad(links("http://images.example.com/ok.png"), problem("link 1")),
    "private ip link": Bad(links("https://10.0.0.1/ok.png"), problem("link 1")),
    "loopback link": Bad(links("https://127.0.0.1/ok.png"), problem("link 1")),
    "ipv6 loopback link": Bad(links("https://[::1]/ok.png"), problem("link 1")),
    "metadata link": Bad(links("https://169.254.169.254/latest/x.png"), problem("link 1")),
    "decimal ip link": Bad(links("https://2130706433/ok.png"), problem("link 1")),
    "user-info link": Bad(
        links("https://bob:hunter2@images.example.com/ok.png"), problem("link 1"), secret="hunter2"
    ),
    "host resolving to private": Bad(
        lambda w, h: {"prompt": "p", "urls": h.url("/ok.png", PRIVATE_IMAGES)}, problem("link 1")
    ),
    "redirect to private": Bad(links("/to-private"), problem("link 1", "redirects to")),
    "link to a web page": Bad(links("/page.html"), problem("link 1", "is text/html")),
    "link to a missing image": Bad(links("/missing.png"), problem("link 1", "the server answ")),
    "link to a 20 MB image": Bad(links("/big.png"), problem("link 1", "is 20.0 MB")),
    "second link bad": Bad(links("/ok.png", "/page.html"), problem("link 2", "is text/html")),
    "duplicate link": Bad(links("/ok.png", "/ok.png"), problem("link 2", "is the same image")),
}


async def send(w: BotWorld, case: Bad, host: ImageServer) -> FakeInteraction:
    options = case.options(w, host)
    if not case.raw:
        return await w.discord.invoke_slash("video", options)
    return await w.discord.invoke_raw(w.discord.slash_payload("video", options, enforce=False))


async def assert_private_only(w: BotWorld, handle: FakeInteraction, expect: str) -> str:
    """The answer is private to the user who asked, says ``expect``, and nothing was spent."""
    answer = await w.private_answer(handle)
    assert expect in answer, answer
    message = w.discord.original_message(handle.token)
    assert message is not None and message.ephemeral
    assert message.interaction_metadata is not None
    assert message.interaction_metadata["user"]["id"] == str(handle.user.id)
    assert "Traceback" not in answer and "Error" not in answer
    assert w.public_messages(handle.channel_id) == []
    assert w.public_messages(TEXT_CHANNEL_ID) == []
    assert w.creates() == 0 and await w.rows() == (0, 0)
    return answer


@pytest.mark.parametrize("case", list(BAD.values()), ids=list(BAD))
async def test_bad_video_input_is_answered_privately(tmp_path: Path, case: Bad) -> None:
    async with image_host() as host:
        checker = offline_checker(host.client_ssl)
        async with bot_world(tmp_path, checker=checker, allow_errors=(HHError,)) as w:
            handle = await send(w, case, host)
            answer = await assert_private_only(w, handle, case.expect)
            if case.secret:
                assert case.secret not in answer


async def test_video_from_a_dm_is_refused(tmp_path: Path) -> None:
    async with bot_world(tmp_path, allow_errors=(HHError,)) as w:
        payload = w.discord.slash_payload("video", {"prompt": "p", "image1": w.image()})
        handle = await w.discord.invoke_raw(dm_payload(w.discord, payload))
        await assert_private_only(w, handle, s.NOT_ALLOWED["dm"])
        assert handle.guild_id is None


async def test_make_video_menu_from_a_dm_is_refused(tmp_path: Path) -> None:
    async with bot_world(tmp_path, allow_errors=(HHError,)) as w:
        message = await w.discord.post_user_message(attachments=[w.image()])
        await w.discord.invoke_message_command(s.MAKE_VIDEO_MENU, message.id)
        await w.discord.wait_for(lambda: w.discord.modals)  # in the guild: the modal opens
        opened = w.discord.modals[-1].interaction.payload
        handle = await w.discord.invoke_raw(dm_payload(w.discord, opened))
        assert await w.private_answer(handle) == s.NOT_ALLOWED["dm"]
        assert len(w.discord.modals) == 1, "no modal from a DM"
        assert w.public_messages() == [message]
        assert not w.public_messages(w.discord.dm_channel(handle.user).id)
        assert w.creates() == 0 and await w.rows() == (0, 0)


async def test_banned_user_is_refused(tmp_path: Path) -> None:
    async with bot_world(tmp_path, allow_errors=(HHError,)) as w:
        await w.services.policy.set_banned(GUILD_ID, ALICE_ID, True)
        handle = await w.video()
        await assert_private_only(w, handle, s.NOT_ALLOWED["banned"])
        other = await w.video(user="bob")  # only alice is banned
        assert "accepted" in await w.private_answer(other)


async def test_disallowed_channel_is_refused(tmp_path: Path) -> None:
    async with bot_world(tmp_path, allow_errors=(HHError,)) as w:
        videos = w.discord.add_text_channel(GUILD_ID, "videos")
        await w.services.policy.set_channel_allowed(GUILD_ID, videos.id, True)
        handle = await w.video()
        await assert_private_only(w, handle, s.NOT_ALLOWED["channel"])
        allowed = await w.video(channel_id=videos.id)
        assert "accepted" in await w.private_answer(allowed)


async def test_over_the_daily_limit_is_refused_with_the_reset_time(tmp_path: Path) -> None:
    limits = replace(default_limits(), user_daily=500)  # a 720P 5 s video costs $0.63
    async with bot_world(tmp_path, limits=limits, allow_errors=(HHError,)) as w:
        handle = await w.video()
        answer = await assert_private_only(w, handle, s.QUOTA["user_day"].split("{", 1)[0])
        assert "<t:" in answer and ":R>" in answer


async def test_unexpected_error_after_the_defer_says_internal_and_leaks_nothing(
    tmp_path: Path,
) -> None:
    async def broken(*args: Any) -> bool:
        raise RuntimeError("db at /srv/hh/secret.sqlite3 exploded")

    async with bot_world(tmp_path, allow_errors=(RuntimeError,)) as w:
        w.services.policy.is_banned = broken  # type: ignore[method-assign]
        handle = await w.video()
        answer = await assert_private_only(w, handle, s.INTERNAL)
        assert answer == s.INTERNAL
        [recorded] = w.errors.take()
        assert isinstance(recorded.original, RuntimeError)


async def test_unexpected_error_before_any_answer_says_internal(tmp_path: Path) -> None:
    async def broken(*args: Any) -> Any:
        raise KeyError("settings row vanished")

    async with bot_world(tmp_path, allow_errors=(KeyError,)) as w:
        message = await w.discord.post_user_message(attachments=[w.image()])
        w.services.policy.defaults = broken  # type: ignore[method-assign]
        handle = await w.discord.invoke_message_command(s.MAKE_VIDEO_MENU, message.id)
        assert await w.private_answer(handle) == s.INTERNAL
        assert w.discord.interaction(handle.token).callback_type == 4  # answered, not deferred
        assert not w.discord.modals and w.creates() == 0
