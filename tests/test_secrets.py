"""Secret hygiene: the API key and the bot token never leave for the wrong place.

Scenarios run the real bot with recognisable secrets (``tests.bot_world``'s API_KEY and
BOT_TOKEN) and then scan everything that left the process or stayed behind: every request to
the fake Discord (paths, queries, bodies, files, headers), every request to the API and to the
download and image hosts, every log record (raw, and as the production formatter prints it),
every exception the bot recorded, the database files. The client's exceptions are checked
directly for every fault, and the real entry point runs once as a subprocess at DEBUG level.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hh_bot.api.client import CreateRequest, HappyHorseClient
from hh_bot.clock import ScaledClock
from hh_bot.config import Secret
from hh_bot.errors import HHError
from hh_bot.logs import MASK, RedactingFormatter, setup_logging
from tests.bot_world import API_KEY, BOT_TOKEN, BotWorld, bot_world
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_payloads import TEXT_CHANNEL_ID
from tests.fakes.happyhorse import FakeHappyHorse, TaskScript
from tests.fakes.images import image_host
from tests.matrix import LogCapture, recording_checker
from tests.test_launcher import bot_env, start_bot, stop_bot
from tests.test_matrix_inputs import POLICY

# The secrets, and fragments of them: a secret cut short (e.g. by a length limit on an error
# text) must not survive either.
NEEDLES = {
    "API key": API_KEY,
    "API key (tail)": API_KEY[-12:],
    "bot token": BOT_TOKEN,
    "bot token (tail)": BOT_TOKEN[-12:],
}
LOGGERS = ("discord", "discord.http", "discord.gateway", "discord.client", "aiohttp", "hh_bot")


def leaks(text: object) -> list[str]:
    value = text if isinstance(text, str) else repr(text)
    return [name for name, needle in NEEDLES.items() if needle in value]


def exception_texts(error: BaseException) -> Iterator[str]:
    """Everything an exception can show: its traceback text, and str/repr/args of it and of
    every exception chained to it (even where the chain is suppressed from display)."""
    yield "".join(traceback.format_exception(error))
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        yield repr(current.args)
        yield repr(vars(current)) if hasattr(current, "__dict__") else ""
        current = current.__cause__ or current.__context__


# --- scenarios through the real bot -----------------------------------------------------------
Scenario = Callable[[BotWorld, str], Awaitable[None]]


async def succeed(w: BotWorld, link: str) -> None:
    handle = await w.video(urls=link)
    await w.outcome(handle)


async def wrong_key(w: BotWorld, link: str) -> None:
    """The API refuses the key and quotes it back in its error ("Incorrect API key provided:
    <key>"), as OpenAI-style gateways do."""
    w.hh.api_key = "sk-some-other-key"
    handle = await w.video()
    await w.outcome(handle)


async def poll_refused(w: BotWorld, link: str) -> None:
    w.hh.poll_faults.append("auth")
    await w.outcome(await w.video())


async def download_refused(w: BotWorld, link: str) -> None:
    w.hh.download_faults.append("403")
    await w.outcome(await w.video())


async def answer_lost(w: BotWorld, link: str) -> None:
    w.hh.create_faults.append("lost")
    await w.outcome(await w.video())


async def token_gone(w: BotWorld, link: str) -> None:
    """The result goes out with the bot token (channel post), the notice of a failure too."""
    handle = await w.video()
    await w.wait_reply(handle)
    w.discord.expire_token(handle.token)
    await w.outcome(handle)
    w.hh.create_faults.append("balance")
    second = await w.video()
    await w.wait_reply(second)
    w.discord.expire_token(second.token)
    await w.outcome(second)


async def refused_inputs(w: BotWorld, link: str) -> None:
    """Rejections answered privately, one of them naming a link the user gave."""
    bad = link.replace("/ok.png", "/page.html")
    await w.private_answer(await w.video(urls=bad, images=[]))
    await w.private_answer(await w.video("   "))


async def unexpected_error(w: BotWorld, link: str) -> None:
    """An exception nobody planned for (the database refuses writes) is logged with its
    traceback and answered with the generic message."""
    # The store has (and should have) no way to refuse writes, so the test reaches into its
    # connection: the admission's write then fails with an sqlite3 error no code expects.
    await w.services.store._db.execute("PRAGMA query_only=ON")
    try:
        await w.private_answer(await w.video())
    finally:
        await w.services.store._db.execute("PRAGMA query_only=OFF")


SCENARIOS: dict[str, Scenario] = {
    "success": succeed,
    "wrong-key": wrong_key,
    "poll-refused": poll_refused,
    "download-refused": download_refused,
    "answer-lost": answer_lost,
    "token-gone": token_gone,
    "refused-inputs": refused_inputs,
    "unexpected-error": unexpected_error,
}


def scan_discord(fake: FakeDiscord) -> list[str]:
    found: list[str] = []
    for rec in fake.requests:
        where = f"Discord {rec.method} {rec.path}"
        for part in (rec.path, rec.query, rec.json, *(f.data.decode("latin-1") for f in rec.files)):
            found += [f"{where}: {n}" for n in leaks(part)]
        for name, value in rec.headers.items():
            if name.lower() == "authorization" and value == f"Bot {BOT_TOKEN}":
                continue  # the bot token's one legitimate place
            found += [f"{where} header {name}: {n}" for n in leaks(value)]
    return found


def scan_api(hh: FakeHappyHorse) -> list[str]:
    found: list[str] = []
    for rec in hh.requests:
        where = f"API {rec.method} {rec.path}"
        found += [f"{where}: {n}" for n in leaks(rec.path + repr(rec.query))]
        found += [f"{where} body: {n}" for n in leaks(rec.body.decode("latin-1"))]
        download = rec.path.startswith("/files/")
        for name, value in rec.headers.items():
            if name.lower() in ("authorization", "cookie", "proxy-authorization") and download:
                found.append(f"{where}: {name} sent to the download host")
            elif name.lower() == "authorization" and value == f"Bearer {API_KEY}":
                continue  # the key's one legitimate place: create and poll
            else:
                found += [f"{where} header {name}: {n}" for n in leaks(value)]
    return found


def scan_files(root: Path) -> list[str]:
    found: list[str] = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes().decode("latin-1")
            found += [f"{path.name}: {n}" for n in leaks(data)]
    return found


ON_SQLITE_ONLY = {"unexpected-error"}  # reaches into the SQLite connection (conftest.py)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=[pytest.mark.sqlite_file] if n in ON_SQLITE_ONLY else [])
        for n in SCENARIOS
    ],
)
async def test_no_secret_leaves_through_any_channel(tmp_path: Path, name: str) -> None:
    capture = LogCapture([API_KEY, BOT_TOKEN])
    with capture.installed(*LOGGERS):
        async with image_host() as host:
            checker, _ = recording_checker(host.client_ssl, POLICY)
            async with bot_world(
                tmp_path,
                script=TaskScript(duration=30),
                checker=checker,
                allow_errors=(HHError, Exception),
            ) as w:
                await SCENARIOS[name](w, host.url("/ok.png"))
                recorded = [e.error for e in w.errors.errors]
                found = scan_discord(w.discord) + scan_api(w.hh)
                for seen in host.requests:
                    headers = {k.lower() for k in seen.headers}
                    if headers & {"authorization", "cookie", "proxy-authorization"}:
                        found.append(f"image host got credentials: {sorted(headers)}")
                    found += [f"image host: {n}" for n in leaks(seen.path + repr(seen.headers))]
                found += [f"repr(services): {n}" for n in leaks(repr(w.services))]
    assert capture.records, "nothing was logged: the capture is not working"
    found += [f"log line: {n}" for line in capture.lines() for n in leaks(line)]
    # Raw records, before any redaction: the secrets were never handed to logging at all.
    found += [f"raw log record: {n}" for line in capture.raw_lines() for n in leaks(line)]
    for error in recorded:
        found += [f"exception: {n}" for text in exception_texts(error) for n in leaks(text)]
    found += scan_files(tmp_path)
    assert found == []


# --- the client's exceptions, for every fault -----------------------------------------------
CREATE_CASES = [
    ["throttle"] * 4, ["balance"], ["5xx"] * 4, ["auth"], ["forbidden"], ["moderation"],
    ["reset"], ["lost"], ["gateway_timeout"], ["garbage"], ["slow"], "wrong-key",
]  # fmt: skip
POLL_CASES = [["5xx"], ["429"], ["reset"], ["garbage"], ["auth"], ["slow"], "wrong-key"]
DOWNLOAD_CASES = ["403", "404", "truncated", "over the size cap", "expired link"]


def case_count() -> int:
    """Cases the secret-hygiene tests try, for docs/reliability.md: the bot scenarios, every
    client fault, the real process, and the three checks of Secret and the log formatter."""
    return len(SCENARIOS) + len(CREATE_CASES) + len(POLL_CASES) + len(DOWNLOAD_CASES) + 4


def _request() -> CreateRequest:
    return CreateRequest(
        prompt="character1 waves",
        image_urls=("https://cdn.discordapp.com/attachments/1/2/a.png",),
        resolution="720P",
        duration=5,
        ratio="16:9",
        watermark=False,
    )


async def _client_errors(tmp: Path) -> list[BaseException]:
    clock = ScaledClock(1000.0)
    fake = FakeHappyHorse(api_key=API_KEY, clock=clock, default_script=TaskScript(duration=30))
    await fake.start()
    errors: list[BaseException] = []
    try:
        async with aiohttp.ClientSession() as session:
            client = HappyHorseClient(session, base_url=fake.base_url, api_key=API_KEY, clock=clock)
            client.set_timeouts(create=0.3, poll=0.3, download=0.3)

            async def attempt(call: Callable[[], Awaitable[Any]]) -> None:
                try:
                    await call()
                except Exception as error:
                    errors.append(error)

            for case in CREATE_CASES:
                fake.api_key = "sk-another-key" if case == "wrong-key" else API_KEY
                fake.create_faults.extend(case if isinstance(case, list) else [])
                await attempt(lambda: client.create(_request()))
                fake.create_faults.clear()
            fake.api_key = API_KEY
            task_id = await client.create(_request())
            for case in POLL_CASES:
                fake.api_key = "sk-another-key" if case == "wrong-key" else API_KEY
                fake.poll_faults.extend(case if isinstance(case, list) else [])
                await attempt(lambda: client.poll(task_id))
                fake.poll_faults.clear()
            fake.api_key = API_KEY
            signed = fake.result_url(task_id, int(clock.now()) + 3600)
            for case in DOWNLOAD_CASES:
                url, cap = signed, 1 << 20
                if case in ("403", "404", "truncated"):
                    fake.download_faults.append(case)
                elif case == "over the size cap":
                    cap = 10
                else:
                    url = fake.result_url(task_id, 1)
                await attempt(lambda u=url, c=cap: client.download(u, tmp / "v.mp4", max_bytes=c))
    finally:
        await fake.close()
    return errors


async def test_client_exceptions_never_carry_the_key(tmp_path: Path) -> None:
    errors = await _client_errors(tmp_path)
    assert len(errors) >= 20
    # The fake quoted the key back in its 401 ("Incorrect API key provided: <key>"): scrubbed.
    assert any("Incorrect API key provided: ***" in str(e) for e in errors)
    found = [
        f"{type(e).__name__}: {n}"
        for e in errors
        for text in exception_texts(e)
        for n in leaks(text)
    ]
    assert found == []
    # Signed download URLs are secrets of a kind too: their signature is never shown.
    assert not [e for e in errors if "Signature=" in str(e) and "Signature=***" not in str(e)]


def test_secret_values_never_show_themselves() -> None:
    secret = Secret(API_KEY)
    shown = [str(secret), repr(secret), f"{secret}", f"{secret!r}", "%s" % (secret,)]  # noqa: UP031
    assert not [text for text in shown if leaks(text)]
    assert secret.reveal() == API_KEY


# --- redaction by construction ---------------------------------------------------------------
def test_the_formatter_masks_secrets_wherever_they_hide() -> None:
    formatter = RedactingFormatter([API_KEY, BOT_TOKEN, "short"])
    try:
        raise RuntimeError(f"request failed with key {API_KEY}")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "hh_bot.test", logging.ERROR, __file__, 1, "token %s key %r", (BOT_TOKEN, API_KEY), exc_info
    )
    record.stack_info = f"stack mentioning {BOT_TOKEN}"
    text = formatter.format(record)
    assert leaks(text) == [] and text.count(MASK) >= 4
    assert "short" in formatter.format(logging.makeLogRecord({"msg": "short"}))  # < 6 chars kept


def test_production_logging_has_one_redacting_handler() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        handler = setup_logging("DEBUG", [API_KEY, BOT_TOKEN])
        assert root.handlers == [handler]
        assert isinstance(handler.formatter, RedactingFormatter)
        assert logging.getLogger("discord.http").getEffectiveLevel() >= logging.INFO
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


# --- the real entry point, DEBUG logging, a key the API quotes back ---------------------------
async def test_the_real_process_prints_no_secret(tmp_path: Path) -> None:
    hh = FakeHappyHorse(api_key="sk-the-key-the-api-expects")  # so it quotes ours back
    await hh.start()
    try:
        async with FakeDiscord(token=BOT_TOKEN) as fake:
            env = {**bot_env(tmp_path, fake.url, hh.base_url), "LOG_LEVEL": "DEBUG"}
            proc = await start_bot(tmp_path, env)
            try:
                await fake.wait_for(lambda: fake.gateway.identify_count > 0, timeout=20)
                image = {
                    "filename": "a.png",
                    "data": b"\x89PNG" + bytes(16),
                    "size": 200_000,
                    "width": 800,
                    "height": 600,
                    "content_type": "image/png",
                    "url": "https://cdn.discordapp.com/attachments/1/2/a.png",
                }
                await fake.invoke_slash("video", {"prompt": "character1 waves", "image1": image})

                def told() -> bool:
                    return any(
                        m.author.id == fake.bot.id and not m.ephemeral and m.embeds
                        and "❌" in str(m.embeds[0].get("description", ""))
                        for m in fake.channel_messages(TEXT_CHANNEL_ID)
                    )  # fmt: skip

                await fake.wait_for(told, timeout=20)
            finally:
                output = await stop_bot(proc)
        assert any(API_KEY in (r.header("Authorization") or "") for r in hh.creates())
        assert " DEBUG " in output, "the process did not log at DEBUG"
        assert leaks(output) == [], output[-2000:]
        assert scan_discord(fake) == []
    finally:
        await hh.close()
