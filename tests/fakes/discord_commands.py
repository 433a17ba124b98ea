"""Application commands in the fake Discord: validating what the bot syncs, and building the
interaction `data` a Discord client would send for the commands the bot actually synced."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakes.discord_payloads import JSON, FakeAttachment, FakeChannel, FakeGuild, FakeUser

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord

SNOWFLAKE_TYPES = {6, 7, 8, 9, 11}


class CommandNotSynced(LookupError):
    """The test invoked a command the bot never synced (Discord would not show it)."""


class ClientCheckError(ValueError):
    """A Discord client would refuse to send this (missing option, wrong type, no permission)."""


def find_command(
    synced: dict[int | None, list[JSON]], name: str, ctype: int, guild_id: int | None
) -> tuple[JSON, int | None]:
    """The synced command and its scope (guild id, or None for global)."""
    scopes: list[int | None] = [guild_id, None] if guild_id is not None else [None]
    for scope in scopes:
        for cmd in synced.get(scope, []):
            if cmd.get("name") == name and cmd.get("type", 1) == ctype:
                if guild_id is None and not _allowed_in_dm(cmd):
                    raise CommandNotSynced(f"command {name!r} is not available in DMs")
                return cmd, scope
    available = sorted(
        f"{c.get('name')} (type {c.get('type', 1)}, guild {s})"
        for s in scopes
        for c in synced.get(s, [])
    )
    where = f"guild {guild_id}" if guild_id else "DMs"
    raise CommandNotSynced(
        f"command {name!r} (type {ctype}) is not synced for {where}; synced: {available}"
    )


def _allowed_in_dm(cmd: JSON) -> bool:
    contexts = cmd.get("contexts")
    if contexts is not None:
        return 1 in contexts
    return cmd.get("dm_permission", True) is not False


def check_member_permissions(cmd: JSON, guild: FakeGuild | None, user: FakeUser) -> None:
    required = cmd.get("default_member_permissions")
    if guild is None or required in (None, ""):
        return
    needed = int(required)
    if guild.permissions_of(user.id) & needed != needed:
        raise ClientCheckError(f"{user.username} may not use {cmd['name']!r} (needs {needed:#x})")


def slash_data(
    fake: FakeDiscord,
    path: str,
    values: dict[str, Any],
    *,
    user: FakeUser,
    guild: FakeGuild | None,
    channel: FakeChannel,
    attachments: list[Any] | None,
    enforce: bool,
) -> JSON:
    """`data` of a CHAT_INPUT interaction; `path` is "cmd", "cmd sub" or "cmd group sub"."""
    parts = path.split()
    cmd, scope = find_command(fake.commands, parts[0], 1, guild.id if guild else None)
    if enforce:
        check_member_permissions(cmd, guild, user)
    resolved: JSON = {}
    schema: list[JSON] = cmd.get("options") or []
    chain: list[JSON] = []
    for part in parts[1:]:
        sub = next((o for o in schema if o["name"] == part and o["type"] in (1, 2)), None)
        if sub is None:
            raise CommandNotSynced(f"{path!r}: no subcommand or group {part!r} in {cmd['name']}")
        chain.append({"type": sub["type"], "name": part})
        schema = sub.get("options") or []
    if enforce and any(o["type"] in (1, 2) for o in schema):
        raise ClientCheckError(f"{path!r} is a group: name a subcommand")
    leaf = _option_values(
        fake, schema, values, attachments, resolved, user, guild, channel, enforce
    )
    options: list[JSON] = leaf
    for link in reversed(chain):
        options = [{**link, "options": options}]
    data: JSON = {"id": cmd["id"], "name": cmd["name"], "type": 1, "options": options}
    if resolved:
        data["resolved"] = resolved
    if scope is not None:
        data["guild_id"] = str(scope)
    return data


def context_menu_data(
    fake: FakeDiscord,
    name: str,
    ctype: int,
    target_id: int,
    resolved: JSON,
    *,
    user: FakeUser,
    guild: FakeGuild | None,
    enforce: bool,
) -> JSON:
    """`data` of a USER (2) or MESSAGE (3) context-menu interaction."""
    cmd, scope = find_command(fake.commands, name, ctype, guild.id if guild else None)
    if enforce:
        check_member_permissions(cmd, guild, user)
    data: JSON = {
        "id": cmd["id"],
        "name": name,
        "type": ctype,
        "target_id": str(target_id),
        "resolved": resolved,
    }
    if scope is not None:
        data["guild_id"] = str(scope)
    return data


def _option_values(
    fake: FakeDiscord,
    schema: list[JSON],
    values: dict[str, Any],
    attachments: list[Any] | None,
    resolved: JSON,
    user: FakeUser,
    guild: FakeGuild | None,
    channel: FakeChannel,
    enforce: bool,
) -> list[JSON]:
    known = {o["name"]: o for o in schema}
    unknown = set(values) - set(known)
    if unknown:
        raise ClientCheckError(f"unknown options {sorted(unknown)}; known: {sorted(known)}")
    pending = list(attachments or [])
    out: list[JSON] = []
    for opt in schema:
        name, otype = opt["name"], opt["type"]
        raw = values.get(name)
        if raw is None and otype == 11 and pending:
            raw = pending.pop(0)
        if raw is None:
            if enforce and opt.get("required"):
                raise ClientCheckError(f"missing required option {name!r}")
            continue
        value = _convert(fake, opt, raw, resolved, guild, channel, enforce)
        out.append({"name": name, "type": otype, "value": value})
    if pending:
        raise ClientCheckError(f"{len(pending)} attachment(s) left over: no attachment option free")
    return out


def _convert(
    fake: FakeDiscord,
    opt: JSON,
    raw: Any,
    resolved: JSON,
    guild: FakeGuild | None,
    channel: FakeChannel,
    enforce: bool,
) -> Any:
    otype, name = opt["type"], opt["name"]
    if otype not in SNOWFLAKE_TYPES:
        if enforce:
            _check_scalar(opt, raw)
        return raw
    if otype == 11:
        att = raw if isinstance(raw, FakeAttachment) else fake.make_attachment(channel.id, raw)
        att.ephemeral = True
        resolved.setdefault("attachments", {})[str(att.id)] = att.payload()
        return str(att.id)
    if otype == 8 or (otype == 9 and guild is not None and _is_role(guild, raw)):
        if guild is None:
            raise ClientCheckError(f"option {name!r}: roles exist only in guilds")
        role = guild.role(int(raw))
        resolved.setdefault("roles", {})[str(role.id)] = role.payload()
        return str(role.id)
    if otype == 7:
        target = raw if isinstance(raw, FakeChannel) else fake.channels[int(raw)]
        chan = target.payload()
        chan["permissions"] = str(guild.permissions_of(fake.bot.id) if guild else 0)
        resolved.setdefault("channels", {})[str(target.id)] = chan
        return str(target.id)
    target_user = fake.user(raw)
    resolved.setdefault("users", {})[str(target_user.id)] = target_user.payload()
    if guild is not None and target_user.id in guild.members:
        member = guild.member_payload(target_user.id, with_user=False)
        member["permissions"] = str(guild.permissions_of(target_user.id))
        resolved.setdefault("members", {})[str(target_user.id)] = member
    return str(target_user.id)


def _is_role(guild: FakeGuild, raw: Any) -> bool:
    return isinstance(raw, int) and any(r.id == raw for r in guild.roles)


def _check_scalar(opt: JSON, raw: Any) -> None:
    name, otype = opt["name"], opt["type"]
    expected: dict[int, tuple[type, ...]] = {3: (str,), 4: (int,), 5: (bool,), 10: (int, float)}
    ok = isinstance(raw, expected.get(otype, (object,)))
    if otype in (4, 10) and isinstance(raw, bool):
        ok = False
    if not ok:
        raise ClientCheckError(f"option {name!r} (type {otype}) cannot take {raw!r}")
    choices = opt.get("choices")
    if choices and raw not in [c["value"] for c in choices]:
        raise ClientCheckError(f"option {name!r}: {raw!r} is not one of the choices")
    if otype == 3 and not opt.get("min_length", 0) <= len(raw) <= opt.get("max_length", 6000):
        raise ClientCheckError(f"option {name!r}: length {len(raw)} out of range")
    if otype in (4, 10):
        low, high = opt.get("min_value"), opt.get("max_value")
        if (low is not None and raw < low) or (high is not None and raw > high):
            raise ClientCheckError(f"option {name!r}: {raw} out of range [{low}, {high}]")


def modal_submit_data(modal: JSON, values: dict[str, Any], *, enforce: bool) -> JSON:
    """`data` of a MODAL_SUBMIT mirroring the modal's layout (action rows or labels)."""
    used: set[str] = set()
    components: list[JSON] = []
    for comp in modal.get("components") or []:
        if comp.get("type") == 1:
            inner = [_submitted(c, values, used, enforce) for c in comp.get("components") or []]
            components.append({"type": 1, "components": inner})
        elif comp.get("type") == 18 and isinstance(comp.get("component"), dict):
            label = {"type": 18, "component": _submitted(comp["component"], values, used, enforce)}
            components.append(label)
    unknown = set(values) - used
    if unknown:
        raise ClientCheckError(f"modal {modal.get('custom_id')!r} has no inputs {sorted(unknown)}")
    return {"custom_id": modal.get("custom_id"), "components": components}


def _submitted(comp: JSON, values: dict[str, Any], used: set[str], enforce: bool) -> JSON:
    cid = str(comp.get("custom_id", ""))
    out: JSON = {"type": comp.get("type"), "custom_id": cid}
    if "id" in comp:
        out["id"] = comp["id"]
    if cid in values:
        used.add(cid)
    if comp.get("type") == 4:
        value = str(values.get(cid, comp.get("value") or ""))
        if enforce and comp.get("required", True) and not value:
            raise ClientCheckError(f"text input {cid!r} is required")
        if (
            enforce
            and value
            and not (comp.get("min_length", 0) <= len(value) <= comp.get("max_length", 4000))
        ):
            raise ClientCheckError(f"text input {cid!r}: length {len(value)} out of range")
        out["value"] = value
    elif comp.get("type") in (3, 5, 6, 7, 8, 19):  # 19: a file upload's attachment ids
        out["values"] = list(values.get(cid, []))
    return out
