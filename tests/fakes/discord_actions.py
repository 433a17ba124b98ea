"""What users do in the fake Discord: invoke commands, click, submit modals, post messages.

Each function takes the FakeDiscord first and is bound as a method of it (`fake.invoke_slash`).
Interaction data comes from the commands the bot synced; what a Discord client would refuse
raises ClientCheckError unless `enforce=False`. `invoke_raw` pushes any payload unchecked.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from tests.fakes.discord_commands import (
    ClientCheckError,
    context_menu_data,
    modal_submit_data,
    slash_data,
)
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_modal_files import upload_values
from tests.fakes.discord_payloads import (
    ALICE_ID,
    DEFAULT_UPLOAD_LIMIT,
    JSON,
    TEXT_CHANNEL_ID,
    FakeChannel,
    FakeGuild,
    FakeUser,
    StoredMessage,
    interaction_payload,
)

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord, UserRef


def _context(
    fake: FakeDiscord, channel_id: int | None, guild: bool, user: FakeUser
) -> tuple[FakeChannel, FakeGuild | None]:
    if channel_id is not None:
        chan = fake.channels[channel_id]
    elif guild:
        chan = fake.channel
    else:
        chan = fake.dm_channel(user)
    if chan.guild_id is None:
        return chan, None
    g = fake.guilds[chan.guild_id]
    if user.id not in g.members:
        raise ClientCheckError(f"{user.username} is not a member of {g.name}")
    return chan, g


def _payload(
    fake: FakeDiscord,
    itype: int,
    data: JSON | None,
    user: FakeUser,
    chan: FakeChannel,
    g: FakeGuild | None,
    limit: int | None = None,
    message: StoredMessage | None = None,
) -> JSON:
    iid = fake.ids.next()
    return interaction_payload(
        interaction_id=iid,
        token=f"itoken-{iid}-{secrets.token_urlsafe(24)}",
        itype=itype,
        data=data,
        user=user,
        channel=chan,
        guild=g,
        attachment_size_limit=limit or max(DEFAULT_UPLOAD_LIMIT, fake.upload_limit_for(chan)),
        message=fake.message_payload(message) if message else None,
    )


def _live_message(fake: FakeDiscord, message_id: int) -> StoredMessage:
    msg = fake.messages.get(message_id)
    if msg is None or msg.deleted:
        raise ClientCheckError(f"message {message_id} does not exist (or was deleted)")
    return msg


def slash_payload(
    fake: FakeDiscord,
    name: str,
    options: dict[str, Any] | None = None,
    *,
    user: UserRef = ALICE_ID,
    channel_id: int | None = None,
    guild: bool = True,
    attachments: list[Any] | None = None,
    attachment_size_limit: int | None = None,
    enforce: bool = True,
) -> JSON:
    """The INTERACTION_CREATE payload `invoke_slash` would push (edit it, then invoke_raw)."""
    u = fake.user(user)
    chan, g = _context(fake, channel_id, guild, u)
    data = slash_data(
        fake,
        name,
        options or {},
        user=u,
        guild=g,
        channel=chan,
        attachments=attachments,
        enforce=enforce,
    )
    return _payload(fake, 2, data, u, chan, g, attachment_size_limit)


async def invoke_slash(
    fake: FakeDiscord,
    name: str,
    options: dict[str, Any] | None = None,
    *,
    user: UserRef = ALICE_ID,
    channel_id: int | None = None,
    guild: bool = True,
    attachments: list[Any] | None = None,
    attachment_size_limit: int | None = None,
    enforce: bool = True,
) -> FakeInteraction:
    """Invoke a synced slash command; `name` may be a path ("hh-admin limit-user").

    Attachment options take a dict (filename, data, content_type, size, width, height, url),
    bytes or a FakeAttachment, in `options` or, in declaration order, from `attachments`."""
    payload = slash_payload(
        fake,
        name,
        options,
        user=user,
        channel_id=channel_id,
        guild=guild,
        attachments=attachments,
        attachment_size_limit=attachment_size_limit,
        enforce=enforce,
    )
    return await invoke_raw(fake, payload)


async def invoke_message_command(
    fake: FakeDiscord, name: str, message_id: int, *, user: UserRef = ALICE_ID, enforce: bool = True
) -> FakeInteraction:
    """Run the message context-menu command `name` on the message."""
    msg = _live_message(fake, message_id)
    u = fake.user(user)
    chan, g = _context(fake, msg.channel_id, True, u)
    resolved = {"messages": {str(msg.id): fake.message_payload(msg)}}
    data = context_menu_data(fake, name, 3, msg.id, resolved, user=u, guild=g, enforce=enforce)
    return await invoke_raw(fake, _payload(fake, 2, data, u, chan, g))


async def invoke_user_command(
    fake: FakeDiscord,
    name: str,
    target: UserRef,
    *,
    user: UserRef = ALICE_ID,
    channel_id: int | None = None,
    guild: bool = True,
    enforce: bool = True,
) -> FakeInteraction:
    u, t = fake.user(user), fake.user(target)
    chan, g = _context(fake, channel_id, guild, u)
    resolved: JSON = {"users": {str(t.id): t.payload()}}
    if g is not None and t.id in g.members:
        resolved["members"] = {str(t.id): g.member_payload(t.id, with_user=False)}
    data = context_menu_data(fake, name, 2, t.id, resolved, user=u, guild=g, enforce=enforce)
    return await invoke_raw(fake, _payload(fake, 2, data, u, chan, g))


async def click_button(
    fake: FakeDiscord,
    message_id: int,
    custom_id: str,
    *,
    user: UserRef = ALICE_ID,
    enforce: bool = True,
) -> FakeInteraction:
    return await _component(fake, message_id, custom_id, 2, None, user, enforce)


async def choose(
    fake: FakeDiscord,
    message_id: int,
    custom_id: str,
    values: list[str],
    *,
    user: UserRef = ALICE_ID,
) -> FakeInteraction:
    """Pick `values` in a string select menu of the message."""
    return await _component(fake, message_id, custom_id, 3, values, user, True)


async def _component(
    fake: FakeDiscord,
    message_id: int,
    custom_id: str,
    ctype: int,
    values: list[str] | None,
    user: UserRef,
    enforce: bool,
) -> FakeInteraction:
    msg = _live_message(fake, message_id)
    if enforce and custom_id not in msg.custom_ids():
        raise ClientCheckError(f"message {message_id} has no {custom_id!r}: {msg.custom_ids()}")
    u = fake.user(user)
    chan, g = _context(fake, msg.channel_id, True, u)
    data: JSON = {"custom_id": custom_id, "component_type": ctype}
    if values is not None:
        data["values"] = values
    return await invoke_raw(fake, _payload(fake, 3, data, u, chan, g, message=msg))


async def submit_modal(
    fake: FakeDiscord,
    custom_id: str,
    values: dict[str, Any],
    *,
    user: UserRef | None = None,
    enforce: bool = True,
) -> FakeInteraction:
    """Submit the last modal the bot opened with `custom_id`; `values` by input custom_id
    (str for text inputs, list[str] for selects). User and channel default to the opener's."""
    record = next((m for m in reversed(fake.modals) if m.custom_id == custom_id), None)
    if record is None:
        opened = [m.custom_id for m in fake.modals]
        raise ClientCheckError(f"no modal {custom_id!r} was opened; opened: {opened}")
    src = record.interaction
    u = fake.user(user) if user is not None else src.user
    chan, g = _context(fake, src.channel_id, True, u)
    values, files = upload_values(fake, chan.id, record.data, values, enforce=enforce)
    data = modal_submit_data(record.data, values, enforce=enforce)
    if files:
        data["resolved"] = {"attachments": files}
    msg = fake.messages.get(src.message_id) if src.message_id else None
    return await invoke_raw(fake, _payload(fake, 5, data, u, chan, g, message=msg))


async def invoke_raw(fake: FakeDiscord, payload: JSON) -> FakeInteraction:
    """Push an INTERACTION_CREATE as is (bypasses every client-side check)."""
    raw_user = (payload.get("member") or {}).get("user") or payload.get("user") or {}
    uid = int(raw_user.get("id", 0))
    user = fake.users.get(uid) or FakeUser(uid, str(raw_user.get("username", "unknown")))
    channel_id = payload.get("channel_id") or (payload.get("channel") or {}).get("id")
    it = FakeInteraction(
        id=int(payload["id"]),
        token=str(payload["token"]),
        type=int(payload["type"]),
        user=user,
        channel_id=int(channel_id or 0),
        guild_id=int(payload["guild_id"]) if payload.get("guild_id") else None,
        payload=payload,
        attachment_size_limit=int(payload.get("attachment_size_limit", DEFAULT_UPLOAD_LIMIT)),
    )
    if payload.get("message"):
        it.message_id = int(payload["message"]["id"])
    fake.interactions[it.id] = it
    fake.by_token[it.token] = it
    if not await fake.gateway.dispatch("INTERACTION_CREATE", payload):
        raise RuntimeError("no bot is connected to the fake gateway")
    return it


async def post_user_message(
    fake: FakeDiscord,
    channel_id: int | None = None,
    content: str = "",
    *,
    attachments: list[Any] | None = None,
    embeds: list[JSON] | None = None,
    user: UserRef = ALICE_ID,
) -> StoredMessage:
    """A user posts a message (e.g. a context-menu target); dispatched as MESSAGE_CREATE."""
    u = fake.user(user)
    chan = fake.channels[channel_id or TEXT_CHANNEL_ID]
    msg = StoredMessage(fake.ids.next(), chan.id, chan.guild_id, u, content, embeds or [])
    msg.attachments = [fake.make_attachment(chan.id, a) for a in attachments or []]
    fake.messages[msg.id] = msg
    await fake.gateway.dispatch("MESSAGE_CREATE", fake.message_payload(msg))
    await fake.notify()
    return msg


async def user_delete_message(fake: FakeDiscord, channel_id: int, message_id: int) -> None:
    """A user deletes the message: later reads and edits answer 404 {code: 10008}."""
    msg = fake.messages[message_id]
    assert msg.channel_id == channel_id, "message is in another channel"
    msg.deleted = True
    event: JSON = {"id": str(message_id), "channel_id": str(channel_id)}
    if msg.guild_id:
        event["guild_id"] = str(msg.guild_id)
    await fake.gateway.dispatch("MESSAGE_DELETE", event)
    await fake.notify()
