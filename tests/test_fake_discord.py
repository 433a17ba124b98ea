"""The fake Discord against real discord.py, driven through a tiny demo bot."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from typing import Literal

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from cogs.http_timeout import set_discord_timeout
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_commands import ClientCheckError, CommandNotSynced
from tests.fakes.discord_harness import ErrorRecorder, running_bot
from tests.fakes.discord_payloads import ALICE_ID, GUILD_ID, TEXT_CHANNEL_ID

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def blob(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


class DescribeModal(discord.ui.Modal, title="Describe"):
    note: discord.ui.TextInput[DescribeModal] = discord.ui.TextInput(
        label="Note", custom_id="note", max_length=200
    )

    def __init__(self, message_id: int) -> None:
        super().__init__(custom_id="describe-modal")
        self.message_id = message_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"noted: {self.note.value} for {self.message_id}")


class ClickView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.button(label="Click", custom_id="demo:click")
    async def click(
        self, interaction: discord.Interaction, button: discord.ui.Button[ClickView]
    ) -> None:
        await interaction.response.edit_message(content=f"clicked by {interaction.user.name}")


class DemoBot(commands.Bot):
    def __init__(self, *, sync_guild: bool = False, members: bool = False) -> None:
        intents = discord.Intents.default()
        intents.members = members
        super().__init__(command_prefix=commands.when_mentioned, intents=intents)
        self.sync_guild = sync_guild
        self.http_errors: list[tuple[str, int]] = []
        self.gate = asyncio.Event()
        self.posted: discord.Message | None = None
        self.followup_msg: discord.WebhookMessage | None = None

    async def setup_hook(self) -> None:
        tree = self.tree

        @tree.command(name="render", description="Defer, edit twice, follow up with a file")
        @app_commands.describe(prompt="What to render", image="Reference image")
        async def render(
            interaction: discord.Interaction, prompt: str, image: discord.Attachment
        ) -> None:
            await interaction.response.defer(thinking=True)
            data = await image.read()
            await interaction.edit_original_response(content=f"rendering {prompt}")
            await interaction.edit_original_response(
                content=f"rendering {prompt} from {image.filename}"
            )
            result = discord.File(io.BytesIO(b"RESULT:" + data), filename="result.bin")
            self.followup_msg = await interaction.followup.send("done", file=result, wait=True)

        @tree.command(name="quick", description="Defer, then answer with a followup")
        async def quick(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send("quick result")

        @tree.command(name="deliver", description="Post with the bot token to the channel or a DM")
        async def deliver(
            interaction: discord.Interaction, where: Literal["channel", "dm"], size: int = 0
        ) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            files = [discord.File(io.BytesIO(blob(size)), "clip.mp4")] if size else []
            target = interaction.user if where == "dm" else interaction.channel
            assert isinstance(target, discord.abc.Messageable)
            try:
                self.posted = await target.send(f"delivery to {where}", files=files)
            except discord.HTTPException as exc:
                self.http_errors.append((where, exc.code))
                await interaction.edit_original_response(content=f"failed {exc.code}")
                return
            await interaction.edit_original_response(content=f"delivered {self.posted.id}")

        @tree.command(name="slow", description="Defer, wait for the test, then finish")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await self.gate.wait()
            final = discord.File(io.BytesIO(blob(64)), "final.mp4")
            try:
                await interaction.edit_original_response(content="finished", attachments=[final])
            except discord.HTTPException as exc:
                self.http_errors.append(("token", exc.code))
                assert isinstance(interaction.channel, discord.abc.Messageable)
                await interaction.channel.send("finished (via channel)")

        @tree.command(name="ping", description="Say where we are")
        async def ping(interaction: discord.Interaction) -> None:
            dm = isinstance(interaction.channel, discord.DMChannel)
            await interaction.response.send_message(f"pong guild={interaction.guild_id} dm={dm}")

        @tree.command(name="button", description="A message with a button")
        async def button(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("press", view=ClickView())

        @tree.context_menu(name="Describe")
        async def describe(interaction: discord.Interaction, message: discord.Message) -> None:
            await interaction.response.send_modal(DescribeModal(message.id))

        admin = app_commands.Group(
            name="hh-admin",
            description="Admin commands",
            default_permissions=discord.Permissions(manage_guild=True),
            guild_only=True,
        )

        @admin.command(name="limit-user", description="Set a user's daily limit")
        async def limit_user(
            interaction: discord.Interaction,
            user: discord.User,
            per_day: app_commands.Range[int, 0, 100],
        ) -> None:
            await interaction.response.send_message(f"limit {user.name} {per_day}", ephemeral=True)

        tree.add_command(admin)
        if self.sync_guild:
            guild = discord.Object(GUILD_ID)
            tree.copy_global_to(guild=guild)
            await tree.sync(guild=guild)
        else:
            await tree.sync()


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[DemoBot]:
    async with running_bot(fake, DemoBot()) as running:
        yield running


async def test_login_sync_and_gateway_once(fake: FakeDiscord, bot: DemoBot) -> None:
    assert len(fake.requests_matching("GET", r"^/users/@me$")) == 1
    assert len(fake.requests_matching("GET", r"^/oauth2/applications/@me$")) == 1
    assert fake.sync_count == 1
    names = {c["name"] for c in fake.synced_commands()}
    assert {"render", "deliver", "ping", "Describe", "hh-admin"} <= names
    assert fake.gateway.identify_count == 1
    await asyncio.wait_for(bot.wait_until_ready(), 1)
    assert bot.user is not None and bot.user.id == fake.bot.id


async def test_startup_to_ready_is_fast(fake: FakeDiscord) -> None:
    """Ready comes from the fake's events, not from discord.py giving up on a wait (5 s per
    guild for member chunks): a guild whose chunks timed out is left unchunked. Checked by
    that event rather than by a wall-clock bound, which a busy machine breaks."""
    async with running_bot(fake, DemoBot(members=True), wait_ready=True) as bot:
        guild = bot.get_guild(GUILD_ID)
        assert guild is not None and guild.chunked  # member_count == members sent
        assert guild.filesize_limit == 10 * 1024 * 1024
        admin = guild.get_member(fake.user("admin").id)
        assert admin is not None and admin.guild_permissions.manage_guild


async def test_slash_round_trip_with_files(fake: FakeDiscord, bot: DemoBot) -> None:
    handle = await fake.invoke_slash(
        "render", {"prompt": "a cat", "image": {"filename": "ref.png", "data": PNG}}
    )
    followups = await fake.wait_for(lambda: fake.followups(handle.token))
    responses = fake.interaction_responses(handle.token)
    assert [r.method for r in responses] == ["POST", "PATCH", "PATCH"]
    assert responses[0].json["type"] == 5
    assert responses[0].at - handle.created_at < 3
    original = fake.original_message(handle.token)
    assert original is not None and not original.loading
    assert original.content == "rendering a cat from ref.png"
    assert len(fake.edits_of(original.id)) == 2
    (msg,) = followups
    assert msg.content == "done"
    assert msg.attachments[0].filename == "result.bin"
    assert msg.attachments[0].data == b"RESULT:" + PNG  # the CDN served the exact bytes back
    (wire,) = fake.requests_matching("POST", rf"^/webhooks/\d+/{handle.token}$")
    assert wire.files[0].data == b"RESULT:" + PNG
    assert wire.query["wait"] in ("1", "true")


async def test_rate_limited_edit_is_retried(fake: FakeDiscord, bot: DemoBot) -> None:
    fake.rate_limit_next("PATCH", r"/messages/@original$", retry_after=0.05)
    handle = await fake.invoke_slash("render", {"prompt": "x", "image": {"filename": "a.png"}})
    await fake.wait_for(lambda: fake.followups(handle.token))
    assert fake.rate_limited_count == 1
    attempts = fake.requests_matching("PATCH", rf"{handle.token}/messages/@original$")
    assert [r.status for r in attempts] == [429, 200, 200]
    assert attempts[0].response["retry_after"] == 0.05


async def test_expired_token_falls_back_to_channel(fake: FakeDiscord, bot: DemoBot) -> None:
    handle = await fake.invoke_slash("slow")
    await fake.wait_for(lambda: handle.responded)
    fake.expire_token(handle.token)
    bot.gate.set()
    msgs = await fake.wait_for(
        lambda: [m for m in fake.channel_messages() if m.content == "finished (via channel)"]
    )
    assert bot.http_errors == [("token", 50027)]
    assert msgs[0].interaction_token is None  # sent with the bot token


@pytest.mark.parametrize(
    ("where", "deny", "code"),
    [("channel", "channel", 50013), ("dm", "dm", 50007), ("channel", "fault", 50001)],
)
async def test_denied_sends(
    fake: FakeDiscord, bot: DemoBot, where: str, deny: str, code: int
) -> None:
    if deny == "channel":
        fake.deny_channel_send(TEXT_CHANNEL_ID)
    elif deny == "dm":
        fake.deny_dm(ALICE_ID)
    else:
        fake.fail_next("POST", rf"^/channels/{TEXT_CHANNEL_ID}/messages$", 403, 50001)
    handle = await fake.invoke_slash("deliver", {"where": where})
    original = await fake.wait_for_original(handle.token, lambda m: m.content == f"failed {code}")
    assert bot.http_errors == [(where, code)]
    assert original.ephemeral


async def test_upload_limit_and_exact_bytes(fake: FakeDiscord, bot: DemoBot) -> None:
    fake.guild.max_upload_bytes = 1000
    small = await fake.invoke_slash("deliver", {"where": "channel", "size": 900})
    await fake.wait_for(lambda: bot.posted is not None)
    (posted,) = [m for m in fake.channel_messages() if m.content == "delivery to channel"]
    assert posted.attachments[0].data == blob(900)
    assert posted.attachments[0].content_type == "video/mp4"
    assert fake.interaction(small.token).responded
    await fake.invoke_slash("deliver", {"where": "channel", "size": 1001})
    await fake.wait_for(lambda: bot.http_errors)
    assert bot.http_errors == [("channel", 40005)]


async def test_dm_delivery(fake: FakeDiscord, bot: DemoBot) -> None:
    handle = await fake.invoke_slash("deliver", {"where": "dm", "size": 10})
    await fake.wait_for_original(handle.token, lambda m: m.content.startswith("delivered"))
    (msg,) = fake.dm_messages("alice")
    assert msg.attachments[0].data == blob(10)
    assert msg.author.id == fake.bot.id


async def test_deleted_message_edit_gives_10008(fake: FakeDiscord, bot: DemoBot) -> None:
    await fake.invoke_slash("deliver", {"where": "channel"})
    await fake.wait_for(lambda: bot.posted is not None)
    assert bot.posted is not None
    await fake.user_delete_message(TEXT_CHANNEL_ID, bot.posted.id)
    with pytest.raises(discord.NotFound) as caught:
        await bot.posted.edit(content="v2")
    assert caught.value.code == 10008


async def test_message_context_menu_and_modal(fake: FakeDiscord, bot: DemoBot) -> None:
    target = await fake.post_user_message(content="look at this", user="bob")
    opened = await fake.invoke_message_command("Describe", target.id)
    await fake.wait_for(lambda: fake.modals)
    assert fake.interaction(opened.token).callback_type == 9
    submitted = await fake.submit_modal("describe-modal", {"note": "nice"})
    reply = await fake.wait_for_original(submitted.token)
    assert reply.content == f"noted: nice for {target.id}"
    with pytest.raises(ClientCheckError):
        await fake.submit_modal("describe-modal", {"note": "x" * 201})


async def test_button_click(fake: FakeDiscord, bot: DemoBot) -> None:
    handle = await fake.invoke_slash("button")
    msg = await fake.wait_for_original(handle.token)
    assert msg.custom_ids() == ["demo:click"]
    await fake.click_button(msg.id, "demo:click", user="bob")
    await fake.wait_for(lambda: fake.edits_of(msg.id))
    assert msg.content == "clicked by bob"


async def test_dm_invocation(fake: FakeDiscord, bot: DemoBot) -> None:
    handle = await fake.invoke_slash("ping", guild=False)
    reply = await fake.wait_for_original(handle.token)
    assert reply.content == "pong guild=None dm=True"
    assert reply.channel_id == fake.dm_channel("alice").id
    with pytest.raises(CommandNotSynced):
        await fake.invoke_slash("hh-admin limit-user", {"user": "bob", "per_day": 1}, guild=False)


async def test_guild_sync_group_and_permissions(fake: FakeDiscord) -> None:
    errors = ErrorRecorder(allow=(app_commands.CommandSignatureMismatch,))
    async with running_bot(fake, DemoBot(sync_guild=True), errors=errors):
        assert fake.synced_commands() == [] and fake.synced_commands(GUILD_ID)
        args = {"user": "bob", "per_day": 5}
        handle = await fake.invoke_slash("hh-admin limit-user", args, user="admin")
        reply = await fake.wait_for_original(handle.token)
        assert reply.content == "limit bob 5" and reply.ephemeral
        with pytest.raises(ClientCheckError):  # no Manage Guild
            await fake.invoke_slash("hh-admin limit-user", args, user="alice")
        with pytest.raises(ClientCheckError):  # the Discord client enforces ranges...
            await fake.invoke_slash("hh-admin limit-user", {**args, "per_day": 500}, user="admin")
        raw = fake.slash_payload(
            "hh-admin limit-user", {**args, "per_day": 500}, user="admin", enforce=False
        )
        handle = await fake.invoke_raw(raw)  # ...discord.py does not re-check them
        reply = await fake.wait_for_original(handle.token)
        assert reply.content == "limit bob 500"
        raw = fake.slash_payload("hh-admin limit-user", args, user="admin")
        raw["data"]["options"][0]["options"].pop(0)  # drop the required user option
        await fake.invoke_raw(raw)
        await fake.wait_for(lambda: errors.errors)
        (error,) = errors.take()
        assert isinstance(error.original, app_commands.CommandSignatureMismatch)


async def test_unknown_command_and_validation(fake: FakeDiscord, bot: DemoBot) -> None:
    with pytest.raises(CommandNotSynced):
        await fake.invoke_slash("nope")
    channel = bot.get_channel(TEXT_CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send("x" * 2001)
    assert caught.value.code == 50035


async def test_resume_after_reconnect(fake: FakeDiscord, bot: DemoBot) -> None:
    await fake.reconnect_gateway()
    await fake.wait_for(lambda: fake.gateway.resume_count == 1)
    handle = await fake.invoke_slash("ping")
    reply = await fake.wait_for_original(handle.token)
    assert reply.content == f"pong guild={GUILD_ID} dm=False"
    assert fake.gateway.identify_count == 1


async def test_errors_in_commands_fail_fast(fake: FakeDiscord) -> None:
    class Broken(DemoBot):
        async def setup_hook(self) -> None:
            @self.tree.command(name="boom", description="Raises")
            async def boom(interaction: discord.Interaction) -> None:
                raise RuntimeError("kaboom")

            await self.tree.sync()

    errors = ErrorRecorder()
    async with running_bot(fake, Broken(), errors=errors):
        await fake.invoke_slash("boom")
        with pytest.raises(AssertionError, match="kaboom"):
            await fake.wait_for(lambda: False, timeout=2)
        errors.take()


async def test_original_edit_with_file_then_bot_token_edit(fake: FakeDiscord, bot: DemoBot) -> None:
    handle = await fake.invoke_slash("slow")
    await fake.wait_for(lambda: handle.responded)
    bot.gate.set()
    original = await fake.wait_for_original(handle.token, lambda m: m.content == "finished")
    assert original.attachments[0].data == blob(64)
    (patch,) = fake.edits_of(original.id)
    assert patch.files[0].filename == "final.mp4" and patch.files[0].data == blob(64)
    channel = bot.get_channel(TEXT_CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    fetched = await channel.fetch_message(original.id)  # the deferred reply is a real message
    await fetched.edit(content="edited with the bot token")
    assert original.content == "edited with the bot token"
    assert original.attachments[0].data == blob(64)  # attachments kept
    assert len(fake.edits_of(original.id)) == 2


async def test_followup_edit_and_first_followup_after_defer(
    fake: FakeDiscord, bot: DemoBot
) -> None:
    handle = await fake.invoke_slash("render", {"prompt": "p"}, attachments=[b"img"])
    (followup,) = await fake.wait_for(lambda: fake.followups(handle.token))
    assert bot.followup_msg is not None
    await bot.followup_msg.edit(content="done!")
    assert followup.content == "done!"
    assert fake.edits_of(followup.id)[0].path.endswith(f"/messages/{followup.id}")
    quick = await fake.invoke_slash("quick")
    original = await fake.wait_for_original(quick.token, lambda m: m.content == "quick result")
    assert fake.followups(quick.token) == [] and not original.loading


async def test_unanswered_interaction_expires() -> None:
    async with FakeDiscord(ack_deadline=0.0) as fake:
        errors = ErrorRecorder(allow=(discord.NotFound,))
        async with running_bot(fake, DemoBot(), errors=errors):
            await fake.invoke_slash("ping")
            await fake.wait_for(lambda: errors.errors)
            (error,) = errors.take()
            assert isinstance(error.original, discord.NotFound) and error.original.code == 10062


async def test_premium_tier_sets_upload_limits() -> None:
    async with FakeDiscord(premium_tier=2) as fake, running_bot(fake, DemoBot()) as bot:
        guild = bot.get_guild(GUILD_ID)
        assert guild is not None and guild.filesize_limit == 50 * 1024 * 1024
        payload = fake.slash_payload("ping")
        assert payload["attachment_size_limit"] == 50 * 1024 * 1024


async def test_restarted_bot_edits_what_the_first_one_posted(fake: FakeDiscord) -> None:
    async with running_bot(fake, DemoBot()) as first:
        await fake.invoke_slash("deliver", {"where": "channel"})
        await fake.wait_for(lambda: first.posted is not None)
        assert first.posted is not None
        posted_id = first.posted.id
    async with running_bot(fake, DemoBot()) as second:
        channel = second.get_channel(TEXT_CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        await channel.get_partial_message(posted_id).edit(content="delivered after restart")
    assert fake.messages[posted_id].content == "delivered after restart"
    assert fake.sync_count == 2 and fake.gateway.identify_count == 2


@pytest.mark.parametrize("mode", ["drop", "lost", "stall"])
async def test_network_faults_reach_discord_py_untouched(
    fake: FakeDiscord, bot: DemoBot, mode: str
) -> None:
    """drop: unhandled, connection closed; lost: handled, answer never written; stall: held
    past the client's timeout. discord.py raises the transport error, not HTTPException."""
    assert set_discord_timeout(bot, 0.5)
    channel = bot.get_partial_messageable(TEXT_CHANNEL_ID)
    fake.net_fault("channel_post", mode)
    with pytest.raises((aiohttp.ClientError, OSError)):
        await channel.send(f"hello {mode}")
    stored = [m for m in fake.channel_messages() if m.content == f"hello {mode}"]
    assert len(stored) == (1 if mode == "lost" else 0)
    assert not fake.net_faults, "the fault was used"
    await channel.send("after")  # the next request is served as usual
    assert fake.channel_messages()[-1].content == "after"


async def test_the_whole_request_must_fit_25_mib(fake: FakeDiscord, bot: DemoBot) -> None:
    fake.guild.max_upload_bytes = 25 * 1024 * 1024
    channel = bot.get_partial_messageable(TEXT_CHANNEL_ID)
    file = discord.File(io.BytesIO(bytes(25 * 1024 * 1024 - 100)), filename="v.mp4")
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send("too big with its payload", file=file)
    assert (refused.value.status, refused.value.code) == (413, 40005)


async def test_edits_of_hour_old_messages_answer_30046(fake: FakeDiscord, bot: DemoBot) -> None:
    channel = bot.get_partial_messageable(TEXT_CHANNEL_ID)
    message = await channel.send("fresh")
    await message.edit(content="edited while fresh")
    fake.now = lambda: time.time() + 3601
    with pytest.raises(discord.HTTPException) as refused:
        await message.edit(content="an hour later")
    assert refused.value.code == 30046
