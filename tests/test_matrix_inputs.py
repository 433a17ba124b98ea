"""The bad-input matrix: what people may paste into /video or "Make video", through the real bot.

Every row goes through the fake Discord (commands as a client sends them, or raw interactions
where a client would refuse), the real cogs and services, and a reference checker whose traffic
is recorded. A refused row must end with one specific private answer to that user, no create
call, no job or ledger row, no message that can ping anyone, and no request to a non-public
address. A "defused" row is accepted but its danger removed (mentions that don't ping, control
characters stripped). ``docs/reliability.md`` is generated from ``CASES``.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cogs.ui import strings as s
from hh_bot.errors import HHError
from hh_bot.jobs.model import JobState
from tests import audit_rows as audit
from tests.bot_world import BotWorld, bot_world
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import ADMIN_ROLE_ID, ALICE_ID, BOB_ID, GUILD_ID, MIB
from tests.fakes.discord_rest import RecordedRequest
from tests.fakes.images import POLICY_TABLE, PUBLIC_IMAGES, ImageServer, fixed, image_host
from tests.matrix import (
    TrafficLog,
    bot_messages,
    non_public_traffic,
    ping_problems,
    recording_checker,
    shown,
)
from tests.waiting import eventually

GOOD = "character1 rides a horse on the beach"
MENU = s.MAKE_VIDEO_MENU
# The link policy's view of DNS. Every name also *connects* to the local image host, so a
# policy slip would show up as a recorded request rather than as a harmless DNS failure.
POLICY: dict[str, list[str]] = {
    **POLICY_TABLE,
    "rebind.example.com": ["127.0.0.1"],
    "mapped.example.com": ["::ffff:10.0.0.1"],
    "metadata.example.com": ["169.254.169.254"],
    "v6mixed.example.com": ["2606:2800:220:1::1", "fd00::7"],
}
_cdn = itertools.count(1)


@dataclass
class InputWorld:
    w: BotWorld
    host: ImageServer
    traffic: TrafficLog

    def fill(self, template: str) -> str:
        return template.replace("{img}", f"{PUBLIC_IMAGES}:{self.host.port}").replace(
            "{port}", str(self.host.port)
        )


Send = Callable[[InputWorld], Awaitable[FakeInteraction]]
Setup = Callable[[InputWorld], Awaitable[None]]
Check = Callable[[InputWorld, dict[str, Any]], None]


@dataclass(frozen=True)
class Case:
    id: str
    group: str
    given: str  # the input as docs/reliability.md shows it
    expect: str  # the private answer, word for word; "" for a defused (accepted) row
    send: Send
    setup: Setup | None = None
    check: Check | None = None  # defused rows: what is checked on the create body
    defused: str = ""  # defused rows: what the document says happened


# --- how a row sends its input --------------------------------------------------------------
def att(name: str = "ref.png", **meta: Any) -> dict[str, Any]:
    """Metadata of a Discord attachment (never fetched); a fresh CDN URL unless given."""
    spec: dict[str, Any] = {
        "filename": name,
        "data": b"\x89PNG" + bytes(16),
        "size": 200_000,
        "width": 800,
        "height": 600,
        "content_type": "image/png",
    }
    spec.update(meta)
    return spec


def _materialise(spec: dict[str, Any]) -> dict[str, Any]:
    out = dict(spec)
    out.setdefault(
        "url", f"https://cdn.discordapp.com/attachments/1000/{next(_cdn)}/{spec['filename']}"
    )
    return out


def slash(
    prompt: str = GOOD,
    *,
    images: tuple[dict[str, Any], ...] = (att(),),
    urls: str | None = None,
    raw: bool = False,
    guild: bool = True,
    **options: Any,
) -> Send:
    """/video as a client sends it, or (``raw``) as a payload no client would send."""

    async def send(m: InputWorld) -> FakeInteraction:
        opts: dict[str, Any] = {"prompt": prompt, **options}
        for i, spec in enumerate(images, start=1):
            opts[f"image{i}"] = _materialise(spec)
        if urls is not None:
            opts["urls"] = m.fill(urls)
        fake = m.w.discord
        if not raw:
            return await fake.invoke_slash("video", opts)
        payload = fake.slash_payload("video", opts, enforce=False)
        return await fake.invoke_raw(payload if guild else in_dm(fake, payload))

    return send


def in_dm(fake: FakeDiscord, payload: dict[str, Any]) -> dict[str, Any]:
    """The same interaction as if Alice had sent it in her DMs with the bot (where no client
    offers /video: it is a guild-only command)."""
    out = {k: v for k, v in payload.items() if k not in ("guild_id", "guild", "guild_locale")}
    out.pop("member")
    dm = fake.dm_channel(ALICE_ID)
    out.update(
        user=fake.user(ALICE_ID).payload(),
        channel=dm.payload(),
        channel_id=str(dm.id),
        context=1,
        authorizing_integration_owners={"1": str(ALICE_ID)},
    )
    out["data"] = {k: v for k, v in payload["data"].items() if k != "guild_id"}
    return out


def link(url: str) -> Send:
    return slash(images=(), urls=url)


def menu(
    attachments: tuple[dict[str, Any], ...] = (att(),), values: dict[str, str] | None = None
) -> Send:
    """ "Make video" on a message Bob posted; ``values`` fill the modal (None: no modal)."""

    async def send(m: InputWorld) -> FakeInteraction:
        fake = m.w.discord
        specs = [_materialise(a) for a in attachments]
        message = await fake.post_user_message(content="look", attachments=specs, user=BOB_ID)
        before = len(fake.modals)
        handle = await fake.invoke_message_command(MENU, message.id)
        if values is None:
            return handle
        await fake.wait_for(lambda: len(fake.modals) > before)
        modal = fake.modals[-1]
        return await fake.submit_modal(modal.custom_id, {"prompt": GOOD, **values}, enforce=False)

    return send


def command(name: str, *, raw: bool = True, guild: bool = True, **options: Any) -> Send:
    """Another command than /video (/settings, /show), as a client sends it or (``raw``) as
    no client would."""

    async def send(m: InputWorld) -> FakeInteraction:
        fake = m.w.discord
        if not raw:
            return await fake.invoke_slash(name, options)
        payload = fake.slash_payload(name, options, enforce=False)
        return await fake.invoke_raw(payload if guild else in_dm(fake, payload))

    return send


async def ban_alice(m: InputWorld) -> None:
    await m.w.services.policy.set_banned(GUILD_ID, ALICE_ID, True)


async def allow_another_channel(m: InputWorld) -> None:
    other = m.w.discord.add_text_channel(GUILD_ID, "video-only")
    await m.w.services.policy.set_channel_allowed(GUILD_ID, other.id, True)


def bad(key: str) -> str:
    return s.BAD_INPUT[key]


def ref(label: str, reason: str) -> str:
    return f"Problem with {label}: {reason}"


def L(id: str, url: str, reason: str, label: str = "link 1") -> Case:
    given = url.replace("{img}", PUBLIC_IMAGES).replace(":{port}", "")
    return Case(id, "link", given, ref(label, reason), link(url))


def A(id: str, given: str, reason: str, **meta: Any) -> Case:
    return Case(id, "attachment", given, ref("image1", reason), slash(images=(att(**meta),)))


def P(id: str, given: str, key: str, **options: Any) -> Case:
    return Case(id, "parameter", given, bad(key), slash(raw=True, **options))


LOOPBACK = "the address points to the bot's own machine (loopback)"
PRIVATE = "the address points to a private network"
KINDS = "not a JPEG, PNG or WEBP image"
MENTIONS = f"@everyone @here <@&{ADMIN_ROLE_ID}> <@{BOB_ID}> character1 waves"
CDN_SAME = "https://cdn.discordapp.com/attachments/1000/1/same.png"
TOO_MANY = s.BAD_INPUT["too_many_images"]


def _cleaned(expected: str) -> Check:
    def check(m: InputWorld, body: dict[str, Any]) -> None:
        assert body["input"]["prompt"] == expected

    return check


# fmt: off
CASES: list[Case] = [
    # -- prompts ---------------------------------------------------------------------------
    Case("prompt-empty", "prompt", '"" (raw)', bad("empty_prompt"), slash("", raw=True)),
    Case("prompt-blank", "prompt", '"   \\n\\t  "', bad("empty_prompt"), slash("   \n\t  ")),
    Case(
        "prompt-invisible",
        "prompt",
        shown("\x00\u200b\u202e\x1b"),
        bad("empty_prompt"),
        slash("\x00\u200b\u202e\x1b"),
    ),
    Case(
        "prompt-5001",
        "prompt",
        "5001 × 'a' (raw)",
        bad("long_prompt"),
        slash("a" * 5001, raw=True),
    ),
    Case(
        "prompt-2501-cjk",
        "prompt",
        "2501 × '馬' (5002 by the API's count)",
        bad("long_prompt_cjk"),
        slash("馬" * 2501),
    ),
    Case(
        "prompt-mixed-cjk",
        "prompt",
        "2000 × '馬' + 1001 × 'a' (CJK counts double: 5001)",
        bad("long_prompt_cjk"),
        slash("馬" * 2000 + "a" * 1001),
    ),
    Case(
        "prompt-2500-cjk",
        "prompt",
        "2500 × '馬' (5000 by the API's count)",
        "",
        slash("馬" * 2500),
        check=_cleaned("馬" * 2500),
        defused="runs: 2500 CJK characters is the API's limit, sent whole",
    ),
    Case(
        "prompt-mentions-refused",
        "prompt",
        f"{MENTIONS}, duration 16 (raw)",
        bad("bad_duration"),
        slash(MENTIONS, raw=True, duration=16),
    ),
    Case(
        "prompt-mentions-accepted",
        "prompt",
        MENTIONS,
        "",
        slash(MENTIONS),
        defused="runs; no message can ping @everyone, the role or Bob (only the owner's result "
        "mention is allowed)",
    ),
    Case(
        "prompt-control-chars",
        "prompt",
        shown("character1\x00 walks\u202e home\u200b\x07"),
        "",
        slash("character1\x00 walks\u202e home\u200b\x07"),
        check=_cleaned("character1 walks home"),
        defused="runs with the prompt 'character1 walks home' (control and format characters "
        "removed)",
    ),
    Case(
        "prompt-5000-plus-invisible",
        "prompt",
        "5000 × 'a' + 20 zero-width spaces (raw)",
        "",
        slash("a" * 5000 + "\u200b" * 20, raw=True),
        check=_cleaned("a" * 5000),
        defused="runs: the limit counts what remains after cleaning (5000)",
    ),
    # -- attachments (metadata only, never fetched) -----------------------------------------
    Case("no-images", "attachment", "prompt only", bad("no_images"), slash(images=())),
    A("att-text", "notes.txt, text/plain", f"is text/plain, {KINDS}",
      filename="notes.txt", content_type="text/plain"),
    A("att-gif", "anim.gif, image/gif", f"is image/gif, {KINDS}",
      filename="anim.gif", content_type="image/gif"),
    A("att-bmp", "scan.bmp, image/bmp", f"is image/bmp, {KINDS}",
      filename="scan.bmp", content_type="image/bmp"),
    A("att-unknown-type", "'scan' (no extension, no content type)",
      "its file type is unknown; only JPEG, PNG or WEBP images are accepted",
      filename="scan", content_type=None),
    A("att-oversize", "11 MB PNG", "is 11.0 MB, the limit is 10 MB", size=11 * MIB),
    A("att-empty", "0-byte PNG", "is empty (0 bytes)", size=0),
    A("att-undersize", "300×200 PNG", "is 300×200, the short side must be at least 400 px",
      width=300, height=200),
    A("att-no-dimensions", "PNG without width/height",
      "is not an image Discord could read (its size in pixels is unknown)",
      width=None, height=None),
    A("att-not-cdn", "attachment URL on evil.example.com (raw)",
      "is not hosted on Discord's CDN (evil.example.com)",
      url="https://evil.example.com/attachments/1/2/a.png"),
    A("att-http-cdn", "attachment URL http://cdn.discordapp.com/… (raw)",
      "is not an https link on Discord's CDN (got http)",
      url="http://cdn.discordapp.com/attachments/1/2/a.png"),
    Case(
        "att-duplicate",
        "attachment",
        "the same attachment URL twice",
        ref("image2", "is the same image as image1"),
        slash(images=(att(url=CDN_SAME), att(url=CDN_SAME))),
    ),
    Case(
        "ten-images",
        "attachment",
        "9 attachments + 1 link",
        TOO_MANY,
        slash(images=tuple(att() for _ in range(9)), urls="https://{img}/ok.png"),
    ),
    # -- links: scheme and form ------------------------------------------------------------
    L("link-http", "http://{img}/ok.png", "only https links are accepted (got http)"),
    L("link-ftp", "ftp://{img}/ok.png", "only https links are accepted (got ftp)"),
    L("link-file", "file:///etc/passwd", "only https links are accepted (got file)"),
    L("link-javascript", "javascript:alert(1)", "only https links are accepted (got javascript)"),
    L("link-data", "data:image/png;base64,iVBORw0KGgo=",
      "only https links are accepted (got data)"),
    L("link-no-scheme", "images.example.com/ok.png", "is not a link (it must start with https://)"),
    L("link-userinfo", "https://user:hunter2@{img}/ok.png",
      "links with a user name or password in them are not accepted"),
    L("link-userinfo-empty", "https://@{img}/ok.png",
      "links with a user name or password in them are not accepted"),
    # -- links: IP literals in every spelling ------------------------------------------------
    L("ip-loopback", "https://127.0.0.1:{port}/ok.png", LOOPBACK),
    L("ip-decimal", "https://2130706433:{port}/ok.png", LOOPBACK),
    L("ip-octal", "https://0177.0.0.1:{port}/ok.png", LOOPBACK),
    L("ip-hex", "https://0x7f000001:{port}/ok.png", LOOPBACK),
    L("ip-short", "https://127.1:{port}/ok.png", LOOPBACK),
    L("ip-v6-loopback", "https://[::1]:{port}/ok.png", LOOPBACK),
    L("ip-v4-mapped", "https://[::ffff:127.0.0.1]:{port}/ok.png", LOOPBACK),
    L("ip-v4-mapped-hex", "https://[::ffff:7f00:1]:{port}/ok.png", LOOPBACK),
    L("ip-v4-mapped-public", "https://[::ffff:93.184.216.34]/ok.png",
      "the address is an IPv4 address written in IPv6 form, which is not accepted"),
    L("ip-private-10", "https://10.0.0.1/ok.png", PRIVATE),
    L("ip-private-192", "https://192.168.1.20:{port}/ok.png", PRIVATE),
    L("ip-metadata", "https://169.254.169.254/latest/meta-data/",
      "the address is a cloud metadata address"),
    L("ip-unspecified", "https://0.0.0.0:{port}/ok.png",
      "the address is the unspecified address (0.0.0.0 or ::)"),
    L("ip-v6-ula", "https://[fd00::1]/ok.png", PRIVATE),
    L("ip-v6-zone", "https://[fe80::1%25eth0]/ok.png",
      "the address has a zone id (link-local), which is not accepted"),
    # -- links: names ------------------------------------------------------------------------
    L("name-localhost", "https://localhost:{port}/ok.png",
      "localhost is a local name, not a public address"),
    L("name-metadata", "https://metadata.google.internal/computeMetadata/v1/",
      "metadata.google.internal is a cloud metadata address"),
    L("dns-private", "https://private.example.com:{port}/ok.png",
      "private.example.com resolves to an address that points to a private network"),
    L("dns-mixed", "https://mixed.example.com:{port}/ok.png",
      "mixed.example.com resolves to an address that points to a private network"),
    L("dns-loopback", "https://rebind.example.com:{port}/ok.png",
      "rebind.example.com resolves to an address that points to the bot's own machine "
      "(loopback)"),
    L("dns-v4-mapped", "https://mapped.example.com:{port}/ok.png",
      "mapped.example.com resolves to an address that points to a private network"),
    L("dns-metadata", "https://metadata.example.com/latest/",
      "metadata.example.com resolves to an address that is a cloud metadata address"),
    L("dns-v6-mixed", "https://v6mixed.example.com:{port}/ok.png",
      "v6mixed.example.com resolves to an address that points to a private network"),
    L("dns-unknown", "https://nx.example.com/ok.png",
      "the host nx.example.com could not be found"),
    # -- links: what the host answers --------------------------------------------------------
    L("redirect-private", "https://{img}/to-private",
      "redirects to private.example.com/ok.png: private.example.com resolves to an address "
      "that points to a private network"),
    L("redirect-loopback", "https://{img}/to-loopback",
      f"redirects to 127.0.0.1/ok.png: {LOOPBACK}"),
    L("redirect-http", "https://{img}/to-http",
      "redirects to http://images.example.com/ok.png: only https links are accepted "
      "(got http)"),
    L("link-html", "https://{img}/page.html", f"is text/html, {KINDS}"),
    L("link-oversize", "https://{img}/big.png", "is 20.0 MB, the limit is 10 MB"),
    L("link-404", "https://{img}/missing.png", "the server answered 404 (Not Found)"),
    L("link-duplicate", "https://{img}/ok.png https://{img}/ok.png",
      "is the same image as link 1", label="link 2"),
    Case(
        "link-duplicate-spelling",
        "link",
        "https://images.example.com/ok.png and https://IMAGES.example.com./ok.png",
        ref("link 2", "is the same image as link 1"),
        link("https://{img}/ok.png https://IMAGES.example.com.:{port}/ok.png"),
    ),
    # -- parameters (raw interactions: a client would refuse them) -----------------------------
    P("duration-1", "duration 1", "bad_duration", duration=1),
    P("duration-16", "duration 16", "bad_duration", duration=16),
    P("duration-negative", "duration -5", "bad_duration", duration=-5),
    P("resolution-4k", "resolution 4K", "bad_resolution", resolution="4K"),
    P("ratio-21-9", "ratio 21:9", "bad_ratio", ratio="21:9"),
    P("seed-negative", "seed -1", "bad_seed", seed=-1),
    P("seed-too-big", "seed 2147483648", "bad_seed", seed=2147483648),
    P("duration-string", 'duration "5" (a string)', "bad_duration", duration="5"),
    P("duration-bool", "duration true", "bad_duration", duration=True),
    P("seed-fraction", "seed 1.5", "bad_seed", seed=1.5),
    P("resolution-number", "resolution 720 (a number)", "bad_resolution", resolution=720),
    # -- who and where ---------------------------------------------------------------------
    Case("banned", "access", "a banned user", s.NOT_ALLOWED["banned"], slash(), ban_alice),
    Case(
        "channel-disallowed",
        "access",
        "a channel not on the server's list",
        s.NOT_ALLOWED["channel"],
        slash(),
        allow_another_channel,
    ),
    Case("dm", "access", "/video in a DM (raw)", s.NOT_ALLOWED["dm"], slash(raw=True, guild=False)),
    Case(
        "menu-banned",
        "access",
        '"Make video" by a banned user',
        s.NOT_ALLOWED["banned"],
        menu(values={}),
        ban_alice,
    ),
    # -- "Make video" on a message ---------------------------------------------------------
    Case(
        "menu-no-images",
        "menu",
        "a message with only a text file",
        bad("no_message_images"),
        menu(attachments=(att("notes.txt", content_type="text/plain"),)),
    ),
    Case(
        "menu-ten-images",
        "menu",
        "a message with 10 images",
        TOO_MANY,
        menu(attachments=tuple(att() for _ in range(10))),
    ),
    Case(
        "menu-blank-prompt",
        "menu",
        'modal prompt "   "',
        bad("empty_prompt"),
        menu(values={"prompt": "   "}),
    ),
    Case(
        "menu-duration-text",
        "menu",
        'modal duration "abc"',
        bad("bad_duration"),
        menu(values={"duration": "abc"}),
    ),
    Case(
        "menu-duration-99",
        "menu",
        'modal duration "99"',
        bad("bad_duration"),
        menu(values={"duration": "99"}),
    ),
    Case(
        "menu-resolution",
        "menu",
        'modal resolution "8K"',
        bad("bad_resolution"),
        menu(values={"resolution": "8K"}),
    ),
    Case(
        "menu-mention-filename",
        "menu",
        "a 100×100 image named @everyone.png",
        ref("image 1 (@everyone.png)", "is 100×100, the short side must be at least 400 px"),
        menu(attachments=(att("@everyone.png", width=100, height=100),), values={}),
    ),
    Case(
        "audit-other-server",
        "audit",
        "/hh-admin audit-channel set to a channel of another server (raw)",
        s.ADMIN_AUDIT_BAD_CHANNEL,
        lambda m: audit.audit_set_raw(audit.other_servers_channel)(m.w),
    ),
    Case(
        "audit-voice-channel",
        "audit",
        "/hh-admin audit-channel set to a voice channel (raw)",
        s.ADMIN_AUDIT_BAD_CHANNEL,
        lambda m: audit.audit_set_raw(audit.voice_channel)(m.w),
    ),
    Case(
        "audit-no-channel",
        "audit",
        "/hh-admin audit-channel set without a channel",
        s.ADMIN_AUDIT_NEED_CHANNEL,
        lambda m: audit.audit_set_raw(audit.no_channel)(m.w),
    ),
    # -- /settings (raw interactions: a client would refuse them); nothing is stored ----------
    Case("settings-duration-16", "settings", "duration 16", bad("bad_duration"),
         command("settings", duration=16)),
    Case("settings-resolution-4k", "settings", "resolution 4K", bad("bad_resolution"),
         command("settings", resolution="4K")),
    Case("settings-ratio-21-9", "settings", "ratio 21:9", bad("bad_ratio"),
         command("settings", ratio="21:9")),
    Case("settings-watermark-text", "settings", 'watermark "yes"', bad("settings_bad_flag"),
         command("settings", watermark="yes")),
    Case("settings-delivery", "settings", 'delivery "email"', bad("settings_bad_delivery"),
         command("settings", delivery="email")),
    Case("settings-suffix-301", "settings", "suffix of 301 characters",
         bad("settings_bad_suffix").format(max=300), command("settings", suffix="a" * 301)),
    Case("settings-suffix-invisible", "settings", "suffix " + shown("\x00\u200b"),
         bad("settings_bad_suffix").format(max=300), command("settings", suffix="\x00\u200b")),
    Case("settings-reset-unknown", "settings", 'reset "seed"',
         bad("settings_unknown").format(name="seed"), command("settings", reset="seed")),
    Case("settings-bad-with-good", "settings", "ratio 1:1 with duration 99 (neither saved)",
         bad("bad_duration"), command("settings", ratio="1:1", duration=99)),
    # -- /show ---------------------------------------------------------------------------------
    Case("show-unknown-id", "show", "an id no job has", s.SHOW_UNKNOWN.format(job_id="0123456789"),
         command("show", raw=False, job="0123456789")),
    Case("show-not-an-id", "show", "@everyone *job*",
         s.SHOW_UNKNOWN.format(job_id="@everyone \\*job\\*"),
         command("show", raw=False, job="@everyone *job*")),
    Case("show-dm", "show", "/show in a DM (raw)", s.NOT_ALLOWED["dm"],
         command("show", guild=False, job="0123456789")),
]
# fmt: on


@asynccontextmanager
async def input_world(tmp: Path) -> AsyncIterator[InputWorld]:
    async with image_host() as host:
        host.routes.update(
            {
                "/to-loopback": fixed(302, Location=f"https://127.0.0.1:{host.port}/ok.png"),
                "/to-http": fixed(302, Location=f"http://{PUBLIC_IMAGES}:{host.port}/ok.png"),
            }
        )
        checker, traffic = recording_checker(host.client_ssl, POLICY)
        async with bot_world(tmp, checker=checker, allow_errors=(HHError,)) as w:
            yield InputWorld(w, host, traffic)


async def stored(w: BotWorld) -> tuple[int, int]:
    """(jobs stored, ledger entries)."""
    store = w.services.store
    return len(await store.jobs_in_states(list(JobState))), len(await store.ledger())


async def settled(w: BotWorld) -> list[str]:
    """The ledger kinds once the only job has reached a final state."""

    async def final() -> list[str] | None:
        jobs = await w.services.store.jobs_in_states(list(JobState))
        if len(jobs) != 1 or not jobs[0].state.final:
            return None
        return [e.kind for e in await w.services.store.ledger(jobs[0].id)]

    return await eventually(final, what="the job to end")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_bad_input(tmp_path: Path, case: Case) -> None:
    async with input_world(tmp_path) as m:
        w = m.w
        if case.setup is not None:
            await case.setup(m)
        handle = await case.send(m)
        answer = await w.private_answer(handle)
        served = [r.headers.get("host", "") for r in m.host.requests]
        assert non_public_traffic(m.traffic, POLICY, served) == []
        if case.defused:
            assert "accepted" in answer, answer
            result = await w.outcome(handle)
            assert (await settled(w)) == ["reserve", "commit"]
            assert w.creates() == 1
            assert f"<@{ALICE_ID}>" in result.content
            if case.check is not None:
                case.check(m, w.hh.creates()[0].json)
        else:
            assert answer == case.expect
            assert w.creates() == 0, "a refused request reached the API"
            assert await stored(w) == (0, 0), "a refused request was stored or charged"
            assert await w.services.store.user_settings(ALICE_ID) is None, "settings saved"
            mine = [msg for msg in bot_messages(w.discord) if not msg.deleted]
            assert all(msg.ephemeral and msg.interaction_token == handle.token for msg in mine), (
                "the refusal was not private to the user"
            )
        assert ping_problems(w.discord, ALICE_ID) == []


def test_the_matrix_is_big_enough() -> None:
    refused = [c for c in CASES if not c.defused]
    assert len(refused) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.group for c in CASES} == {
        "prompt", "attachment", "link", "parameter", "access", "menu", "audit", "settings", "show",
    }  # fmt: skip


async def test_the_ping_check_catches_what_would_ping() -> None:
    """``ping_problems`` itself: each of these message bodies would notify someone."""
    fake = FakeDiscord()
    bodies = [
        {"content": "@everyone look"},  # no allowed_mentions: Discord parses everything
        {"content": "hi", "allowed_mentions": {"parse": ["everyone"]}},
        {"content": "hi", "allowed_mentions": {"parse": [], "roles": [ADMIN_ROLE_ID]}},
        {"content": f"<@{BOB_ID}>", "allowed_mentions": {"parse": [], "users": [BOB_ID]}},
        {"type": 4, "data": {"content": "@here", "flags": 64}},
    ]
    for i, body in enumerate(bodies):
        path = "/interactions/1/t/callback" if "data" in body else f"/channels/{i}/messages"
        fake.requests.append(RecordedRequest("POST", path, {}, {}, body, []))
    fine = {
        "content": f"<@{ALICE_ID}> done",
        "allowed_mentions": {"parse": [], "users": [ALICE_ID]},
    }
    fake.requests.append(RecordedRequest("POST", "/channels/9/messages", {}, {}, fine, []))
    assert len(ping_problems(fake, ALICE_ID)) == len(bodies)
