"""World model of the fake Discord and the JSON payloads Discord would build from it.

Everything here is plain data: users, guilds, roles, channels, messages and attachments, plus
builders of the JSON shapes discord.py parses (READY, GUILD_CREATE, messages, interactions).
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import time
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000
MIB = 1024 * 1024
DEFAULT_UPLOAD_LIMIT = 10 * MIB
TIER_UPLOAD_LIMITS = {0: 10 * MIB, 1: 10 * MIB, 2: 50 * MIB, 3: 100 * MIB}

# Fixed ids of the default world (snowflakes from 2024, so created_at looks sane).
APP_ID = 1_250_000_000_000_000_001
BOT_USER_ID = APP_ID  # modern bots: bot user id == application id
GUILD_ID = 1_250_000_000_000_000_100
ADMIN_ROLE_ID = 1_250_000_000_000_000_110
BOT_ROLE_ID = 1_250_000_000_000_000_111
TEXT_CHANNEL_ID = 1_250_000_000_000_000_200
ALICE_ID = 1_250_000_000_000_000_301
BOB_ID = 1_250_000_000_000_000_302
CAROL_ID = 1_250_000_000_000_000_303
ADMIN_ID = 1_250_000_000_000_000_304
OWNER_ID = 1_250_000_000_000_000_305

# Permission bits (subset).
ADD_REACTIONS = 1 << 6
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
MANAGE_MESSAGES = 1 << 13
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_APPLICATION_COMMANDS = 1 << 31
ALL_PERMISSIONS = (1 << 51) - 1
EVERYONE_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_APPLICATION_COMMANDS
)
BOT_PERMISSIONS = EVERYONE_PERMISSIONS | MANAGE_MESSAGES

# Message flags.
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7


def iso(when: dt.datetime) -> str:
    return when.isoformat()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Snowflakes:
    """Monotonic, time-based snowflake ids."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        now = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(now, self._last + 1)
        return self._last


@dataclass
class FakeUser:
    id: int
    username: str
    bot: bool = False
    locale: str = "en-US"  # the Discord client's language: each interaction's ``locale``

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": None if self.bot else self.username.title(),
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
            "verified": True,
            "mfa_enabled": False,
        }


@dataclass
class FakeRole:
    id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            **dict.fromkeys(["hoist", "mentionable"], False),
            **dict.fromkeys(["icon", "unicode_emoji"]),
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "flags": 0,
        }


@dataclass
class FakeMember:
    user: FakeUser
    role_ids: list[int] = field(default_factory=list)
    joined_at: dt.datetime = field(default_factory=utcnow)


@dataclass
class FakeChannel:
    id: int
    name: str
    type: int = 0  # 0 guild text, 1 DM, 11 public thread
    guild_id: int | None = None
    recipient: FakeUser | None = None
    position: int = 0
    parent_id: int | None = None  # threads: the text channel they belong to

    @property
    def is_dm(self) -> bool:
        return self.type == 1

    @property
    def is_thread(self) -> bool:
        return self.type in (10, 11, 12)

    def payload(self) -> JSON:
        if self.is_thread:
            # As Discord sends a thread in an interaction's ``channel``: its own id, its parent.
            return {
                "id": str(self.id),
                "type": self.type,
                "guild_id": str(self.guild_id),
                "name": self.name,
                "parent_id": str(self.parent_id),
                "owner_id": str(self.parent_id),  # who started it doesn't matter here
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "message_count": 0,
                "member_count": 1,
                "total_message_sent": 0,
                "flags": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": "2026-01-01T00:00:00+00:00",
                    "locked": False,
                },
            }
        if self.is_dm:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": 1,
                "recipients": [self.recipient.payload()],
                "last_message_id": None,
                "flags": 0,
            }
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "nsfw": False,
            **dict.fromkeys(["topic", "last_message_id", "parent_id"]),
            **dict.fromkeys(["rate_limit_per_user", "flags"], 0),
        }


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    premium_tier: int = 0
    roles: list[FakeRole] = field(default_factory=list)
    channels: list[FakeChannel] = field(default_factory=list)
    members: dict[int, FakeMember] = field(default_factory=dict)
    max_upload_bytes: int | None = None  # overrides the tier limit (stricter than the bot knows)
    locale: str = "en-US"  # the server's language: ``preferred_locale``, ``guild_locale``

    @property
    def upload_limit(self) -> int:
        if self.max_upload_bytes is not None:
            return self.max_upload_bytes
        return TIER_UPLOAD_LIMITS.get(self.premium_tier, DEFAULT_UPLOAD_LIMIT)

    def role(self, role_id: int) -> FakeRole:
        return next(r for r in self.roles if r.id == role_id)

    def permissions_of(self, user_id: int) -> int:
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.members.get(user_id)
        perms = self.role(self.id).permissions
        for role_id in member.role_ids if member else []:
            perms |= self.role(role_id).permissions
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def member_payload(self, user_id: int, *, with_user: bool = True) -> JSON:
        member = self.members[user_id]
        data: JSON = {
            "roles": [str(r) for r in member.role_ids],
            "joined_at": iso(member.joined_at),
            "flags": 0,
            **dict.fromkeys(["deaf", "mute", "pending"], False),
            **dict.fromkeys(["nick", "avatar", "banner", "premium_since"]),
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = member.user.payload()
        return data

    def create_payload(self) -> JSON:
        members = [self.member_payload(uid) for uid in self.members]
        nulls = "icon splash discovery_splash banner description afk_channel_id vanity_url_code"
        zeros = "verification_level default_message_notifications explicit_content_filter "
        zeros += "mfa_level nsfw_level system_channel_flags premium_subscription_count"
        empty = "features emojis stickers threads presences voice_states stage_instances "
        empty += "guild_scheduled_events soundboard_sounds"
        return {
            **dict.fromkeys(nulls.split()),
            **dict.fromkeys(zeros.split(), 0),
            **{key: [] for key in empty.split()},
            "id": str(self.id),
            "name": self.name,
            "owner_id": str(self.owner_id),
            "afk_timeout": 300,
            "roles": [r.payload() for r in self.roles],
            "system_channel_id": str(self.channels[0].id) if self.channels else None,
            "premium_tier": self.premium_tier,
            "premium_progress_bar_enabled": False,
            "preferred_locale": self.locale,
            "max_members": 500000,
            "joined_at": iso(utcnow()),
            "large": False,
            "unavailable": False,
            "member_count": len(members),
            "members": members,
            "channels": [c.payload() for c in self.channels],
        }


@dataclass
class UploadedFile:
    """One file part of a multipart request, exactly as received.

    Performance knob (benchmarks): with ``FakeDiscord.keep_upload_bytes = False`` the bytes are
    not kept; ``data`` is empty and ``length``/``sha256`` describe what was received."""

    index: int
    filename: str
    data: bytes
    content_type: str | None = None
    length: int = -1  # -1: len(data)
    sha256: str = ""  # set when the bytes were not kept

    @property
    def size(self) -> int:
        return self.length if self.length >= 0 else len(self.data)


@dataclass
class FakeAttachment:
    """An attachment on a message (bot upload or user upload); `data` holds the exact bytes."""

    id: int
    filename: str
    data: bytes = b""
    content_type: str | None = None
    size: int = -1  # -1: len(data); set higher to simulate a huge file without the bytes
    width: int | None = None
    height: int | None = None
    description: str | None = None
    ephemeral: bool = False
    url: str = ""

    def __post_init__(self) -> None:
        if self.size < 0:
            self.size = len(self.data)
        if self.content_type is None:
            self.content_type = mimetypes.guess_type(self.filename)[0]

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url.replace("/attachments/", "/media/attachments/", 1),
            "content_type": self.content_type,
            "flags": 0,
        }
        if self.width is not None:
            data["width"], data["height"] = self.width, self.height
        if self.description is not None:
            data["description"] = self.description
        if self.ephemeral:
            data["ephemeral"] = True
        return data


@dataclass
class StoredMessage:
    """A message as the fake holds it; `payload()` is what Discord would return."""

    id: int
    channel_id: int
    guild_id: int | None
    author: FakeUser
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[FakeAttachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    created_at: dt.datetime = field(default_factory=utcnow)
    edited_at: dt.datetime | None = None
    deleted: bool = False
    interaction_token: str | None = None  # set for messages created through an interaction
    interaction_metadata: JSON | None = None
    webhook_id: int | None = None
    reference_id: int | None = None
    edit_count: int = 0

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & FLAG_LOADING)

    @property
    def files(self) -> list[FakeAttachment]:
        return self.attachments

    def custom_ids(self) -> list[str]:
        return [str(c["custom_id"]) for c in walk_components(self.components) if "custom_id" in c]

    def payload(self, member: JSON | None = None) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": iso(self.created_at),
            "edited_timestamp": iso(self.edited_at) if self.edited_at else None,
            **dict.fromkeys(["tts", "mention_everyone", "pinned"], False),
            **{key: [] for key in ("mentions", "mention_roles")},
            "attachments": [a.payload() for a in self.attachments],
            "embeds": self.embeds,
            "components": self.components,
            "type": self.type,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if member is not None:
            data["member"] = member
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
            data["application_id"] = str(self.webhook_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = self.interaction_metadata
        if self.reference_id is not None:
            data["message_reference"] = {
                "type": 0,
                "message_id": str(self.reference_id),
                "channel_id": str(self.channel_id),
            }
        return data


def walk_components(components: list[JSON]) -> list[JSON]:
    """All components, nested ones included (action rows, labels, containers, sections)."""
    out: list[JSON] = []
    for comp in components:
        if not isinstance(comp, dict):
            continue
        out.append(comp)
        out.extend(walk_components(comp.get("components") or []))
        for key in ("component", "accessory"):
            if isinstance(comp.get(key), dict):
                out.extend(walk_components([comp[key]]))
    return out


def interaction_payload(
    *,
    interaction_id: int,
    token: str,
    itype: int,
    data: JSON | None,
    user: FakeUser,
    channel: FakeChannel,
    guild: FakeGuild | None,
    attachment_size_limit: int,
    message: JSON | None = None,
) -> JSON:
    payload: JSON = {
        "id": str(interaction_id),
        "application_id": str(APP_ID),
        "type": itype,
        "token": token,
        "version": 1,
        "channel_id": str(channel.id),
        "locale": user.locale,
        "entitlements": [],
        "attachment_size_limit": attachment_size_limit,
    }
    if data is not None:
        payload["data"] = data
    if message is not None:
        payload["message"] = message
    if guild is not None:
        member = guild.member_payload(user.id)
        member["permissions"] = str(guild.permissions_of(user.id))
        channel_data = channel.payload()
        channel_data["permissions"] = str(guild.permissions_of(user.id))
        payload.update(
            guild_id=str(guild.id),
            guild={"id": str(guild.id), "locale": guild.locale, "features": []},
            guild_locale=guild.locale,
            member=member,
            channel=channel_data,
            app_permissions=str(guild.permissions_of(BOT_USER_ID)),
            authorizing_integration_owners={"0": str(guild.id)},
            context=0,
        )
    else:
        payload.update(
            user=user.payload(),
            channel=channel.payload(),
            app_permissions=str(EVERYONE_PERMISSIONS),
            authorizing_integration_owners={"0": "0"},
            context=1,
        )
    return payload
