"""Interactions in the fake Discord: the record of each interaction pushed, and the routes that
answer it (callback, `@original`, followups, followup edits), with Discord's rules: 3 s to
acknowledge, one acknowledgement, 15-minute token, first followup after a defer edits the
loading message."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tests.fakes.discord_limits import SEND_FLAGS, ApiError, check_modal, form_error
from tests.fakes.discord_payloads import (
    APP_ID,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    JSON,
    FakeUser,
    StoredMessage,
)

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord
    from tests.fakes.discord_rest import RecordedRequest, Reply, RestHandlers


@dataclass
class FakeInteraction:
    """An interaction the fake pushed; `id`/`token` identify it in the recorded requests."""

    id: int
    token: str
    type: int
    user: FakeUser
    channel_id: int
    guild_id: int | None
    payload: JSON
    attachment_size_limit: int
    created_at: float = field(default_factory=time.monotonic)
    message_id: int | None = None  # the message carrying the clicked component
    callback_type: int | None = None
    callback_at: float | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    autocomplete_choices: list[JSON] | None = None

    @property
    def responded(self) -> bool:
        return self.callback_type is not None


@dataclass
class ModalRecord:
    interaction: FakeInteraction  # the interaction answered with the modal
    data: JSON

    @property
    def custom_id(self) -> str:
        return str(self.data.get("custom_id"))


class InteractionRoutes:
    def __init__(self, rest: RestHandlers) -> None:
        self.rest = rest
        self.fake: FakeDiscord = rest.fake

    # ---- interactions --------------------------------------------------------------------
    def _check_token(self, it: FakeInteraction) -> None:
        lived = time.monotonic() - it.created_at
        if it.token in self.fake.expired_tokens or lived > self.fake.token_lifetime:
            raise ApiError(401, 50027, "Invalid Webhook Token")

    async def callback(self, rec: RecordedRequest, iid: str, token: str) -> Reply:
        it = self.fake.interactions.get(int(iid))
        if it is None or it.token != token:
            raise ApiError(404, 10062, "Unknown interaction")
        self._check_token(it)
        if it.responded:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - it.created_at > self.fake.ack_deadline:
            raise ApiError(404, 10062, "Unknown interaction")
        body = rec.json or {}
        ctype, data = body.get("type"), body.get("data") or {}
        chan = self.rest.channel(it.channel_id)
        msg: StoredMessage | None = None
        if ctype == 4:
            mask = SEND_FLAGS | FLAG_EPHEMERAL
            msg = self.rest.new_message(rec, chan, data, it.attachment_size_limit, 0, it, mask)
        elif ctype == 5:
            flags = FLAG_LOADING | (int(data.get("flags") or 0) & FLAG_EPHEMERAL)
            msg = StoredMessage(self.fake.ids.next(), chan.id, chan.guild_id, self.fake.bot)
            msg.flags = flags
            self.rest.mark_interaction(msg, it)
            self.fake.messages[msg.id] = msg
            rec.message_id = msg.id
        elif ctype in (6, 7):
            msg = self.fake.messages.get(it.message_id or 0)
            if msg is None:
                raise form_error(_type_error("types 6 and 7 answer component interactions only"))
            if ctype == 7:
                self.rest.edit(rec, msg, data, it.attachment_size_limit)
                await self.rest.announce("MESSAGE_UPDATE", msg)
            it.original_message_id = msg.id
        elif ctype == 8:
            it.autocomplete_choices = list(data.get("choices") or [])
        elif ctype == 9 and it.type != 5:
            check_modal(data)
            self.fake.record_modal(it, data)
        else:
            raise form_error(_type_error(f"invalid response type {ctype} for this interaction"))
        if ctype in (4, 5) and msg is not None:
            it.original_message_id = msg.id
            await self.rest.announce("MESSAGE_CREATE", msg)
        it.callback_type, it.callback_at = ctype, time.monotonic()
        answer: JSON = {
            "interaction": {
                "id": str(it.id),
                "type": it.type,
                "response_message_loading": ctype == 5,
                "response_message_ephemeral": bool(msg is not None and msg.ephemeral),
            },
            "resource": {"type": ctype},
        }
        if msg is not None and ctype != 6:
            answer["interaction"]["response_message_id"] = str(msg.id)
            answer["resource"]["message"] = self.fake.message_payload(msg)
        return (200, answer) if rec.query.get("with_response") else (204, None)

    def _token_interaction(self, app: str, token: str) -> FakeInteraction:
        it = self.fake.by_token.get(token)
        if it is None or int(app) != APP_ID:
            raise ApiError(404, 10015, "Unknown Webhook")
        self._check_token(it)
        return it

    def _token_message(self, it: FakeInteraction, mid: str) -> StoredMessage:
        if mid == "@original":
            target = it.original_message_id
        else:
            target = int(mid) if int(mid) in (it.original_message_id, *it.followup_ids) else None
        msg = self.fake.messages.get(target) if target is not None else None
        if msg is None or msg.deleted:
            raise ApiError(404, 10008, "Unknown Message")
        return msg

    async def webhook_get(self, rec: RecordedRequest, app: str, token: str, mid: str) -> Reply:
        msg = self._token_message(self._token_interaction(app, token), mid)
        rec.message_id = msg.id
        return 200, self.fake.message_payload(msg)

    async def webhook_edit(self, rec: RecordedRequest, app: str, token: str, mid: str) -> Reply:
        it = self._token_interaction(app, token)
        msg = self._token_message(it, mid)
        self.rest.edit(rec, msg, rec.json or {}, it.attachment_size_limit)
        await self.rest.announce("MESSAGE_UPDATE", msg)
        return 200, self.fake.message_payload(msg)

    async def webhook_delete(self, rec: RecordedRequest, app: str, token: str, mid: str) -> Reply:
        msg = self._token_message(self._token_interaction(app, token), mid)
        await self.rest.delete(msg)
        return 204, None

    async def followup(self, rec: RecordedRequest, app: str, token: str) -> Reply:
        it = self._token_interaction(app, token)
        if not it.responded:
            raise ApiError(404, 10015, "Unknown Webhook")
        body = rec.json or {}
        original = self.fake.messages.get(it.original_message_id or 0)
        if it.callback_type == 5 and original is not None and original.loading:
            # Discord: the first followup after a deferred reply edits the loading message.
            self.rest.edit(rec, original, body, it.attachment_size_limit)
            msg = original
            await self.rest.announce("MESSAGE_UPDATE", msg)
        else:
            chan = self.rest.channel(it.channel_id)
            mask = SEND_FLAGS | FLAG_EPHEMERAL
            msg = self.rest.new_message(rec, chan, body, it.attachment_size_limit, 0, it, mask)
            it.followup_ids.append(msg.id)
            await self.rest.announce("MESSAGE_CREATE", msg)
        if rec.query.get("wait", "").lower() in ("1", "true"):
            return 200, self.fake.message_payload(msg)
        return 204, None


def _type_error(message: str) -> JSON:
    return {"type": {"_errors": [{"code": "INTERACTION_RESPONSE_TYPE", "message": message}]}}
