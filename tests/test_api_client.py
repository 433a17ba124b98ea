"""HappyHorseClient end to end against the fake server, time compressed by a shared clock."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import socket
import traceback
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hh_bot.api.client import CREATE_PATH, CreateRequest, HappyHorseClient, TaskState
from hh_bot.clock import ScaledClock
from hh_bot.errors import (
    ApiError,
    AuthError,
    DownloadError,
    HHError,
    ModerationBlocked,
    OutOfBalance,
    RejectedInput,
    Throttled,
    UnknownOutcome,
    UpstreamError,
)
from tests.fakes.happyhorse import FakeHappyHorse, TaskScript

KEY = "sk-SECRET-0123456789abcdef"
REQ = CreateRequest(
    prompt="character1 walks through a sunset garden",
    image_urls=("https://img.example.com/a.png", "https://img.example.com/b.png"),
    resolution="720P",
    duration=5,
    ratio="16:9",
    watermark=False,
)


@dataclasses.dataclass
class Env:
    fake: FakeHappyHorse
    client: HappyHorseClient
    clock: ScaledClock
    session: aiohttp.ClientSession


@contextlib.asynccontextmanager
async def make_env(factor: float = 1000.0, **client_kw: Any) -> AsyncIterator[Env]:
    clock = ScaledClock(factor=factor)
    fake = FakeHappyHorse(api_key=KEY, clock=clock, default_script=TaskScript(duration=100))
    await fake.start()
    kw: dict[str, Any] = {"create_timeout": 0.3, "poll_timeout": 0.3, "download_timeout": 2.0}
    kw.update(client_kw)
    try:
        async with aiohttp.ClientSession() as session:
            api_key = kw.pop("api_key", KEY)
            client = HappyHorseClient(
                session, base_url=fake.base_url, api_key=api_key, clock=clock, **kw
            )
            yield Env(fake, client, clock, session)
    finally:
        await fake.close()


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with make_env() as e:
        yield e


def assert_secret_free(err: BaseException) -> None:
    for text in (str(err), repr(err), "".join(traceback.format_exception(err))):
        assert KEY not in text
    assert KEY not in str(vars(err))


class RecordingClock:
    """Wraps a clock, records every sleep and can run a hook before the first one."""

    def __init__(self, inner: ScaledClock, on_first_sleep: Any = None) -> None:
        self.inner, self.on_first_sleep = inner, on_first_sleep
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.inner.now()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if len(self.sleeps) == 1 and self.on_first_sleep is not None:
            await self.on_first_sleep()
        await self.inner.sleep(seconds)


# -- create ---------------------------------------------------------------------------------


async def test_create_sends_exact_request(env: Env) -> None:
    task_id = await env.client.create(REQ)
    assert list(env.fake.tasks) == [task_id]
    (rec,) = env.fake.creates()
    assert rec.path == "/wan/api/v1/services/aigc/video-generation/video-synthesis" == CREATE_PATH
    assert rec.header("Authorization") == f"Bearer {KEY}"
    assert rec.header("Content-Type") == "application/json"
    assert rec.header("X-DashScope-Async") == "enable"
    assert rec.header("Accept-Encoding") == "identity"
    assert rec.json == {
        "model": "happyhorse-1.0-r2v",
        "input": {
            "prompt": REQ.prompt,
            "media": [
                {"type": "reference_image", "url": "https://img.example.com/a.png"},
                {"type": "reference_image", "url": "https://img.example.com/b.png"},
            ],
        },
        "parameters": {"resolution": "720P", "duration": 5, "ratio": "16:9", "watermark": False},
    }


async def test_create_sends_optional_fields_and_reads_flat_id(env: Env) -> None:
    env.fake.create_shape = "flat"
    env.fake.gzip_label_quirk = True
    req = dataclasses.replace(REQ, seed=42, prompt_extend=True, resolution="1080P", duration=15)
    task_id = await env.client.create(req)
    assert task_id in env.fake.tasks
    sent = env.fake.creates()[0].json
    assert sent is not None
    params = sent["parameters"]
    assert params == {
        "resolution": "1080P",
        "duration": 15,
        "ratio": "16:9",
        "prompt_extend": True,
        "watermark": False,
        "seed": 42,
    }
    assert isinstance(params["duration"], int)


@pytest.mark.parametrize(
    "changes",
    [
        {"image_urls": ()},
        {"image_urls": ("https://img.example.com/a.png",) * 10},
        {"image_urls": ("ftp://img.example.com/a.png",)},
        {"duration": 2},
        {"duration": 16},
        {"duration": "5"},  # a string duration is a parse error upstream
        {"resolution": "4K"},
        {"ratio": "2:1"},
        {"seed": -1},
        {"prompt": ""},
        {"prompt": "x" * 5001},
    ],
)
async def test_create_rejected_input(env: Env, changes: dict[str, Any]) -> None:
    with pytest.raises(RejectedInput) as info:
        await env.client.create(dataclasses.replace(REQ, **changes))
    assert info.value.status == 400 and info.value.code == "InvalidParameter"
    assert len(env.fake.creates()) == 1 and env.fake.tasks == {}


@pytest.mark.parametrize(
    ("fault", "cls", "status"),
    [
        ("moderation", ModerationBlocked, 400),
        ("forbidden", AuthError, 403),
        ("auth", AuthError, 401),
        ("balance", OutOfBalance, 429),
    ],
)
async def test_create_refusals_are_not_retried(
    env: Env, fault: str, cls: type[ApiError], status: int
) -> None:
    env.fake.create_faults.append(fault)
    with pytest.raises(cls) as info:
        await env.client.create(REQ)
    assert type(info.value) is cls and info.value.status == status
    assert len(env.fake.creates()) == 1 and env.fake.tasks == {}


async def test_wrong_key_is_auth_error_and_never_echoed() -> None:
    async with make_env(api_key="sk-WRONG-secret-value") as env:
        with pytest.raises(AuthError) as info:
            await env.client.create(REQ)
        assert "sk-WRONG-secret-value" not in str(info.value)
        assert "sk-WRONG-secret-value" not in repr(env.client)


async def test_wrong_model_is_rejected() -> None:
    async with make_env(model="happyhorse-9") as env:
        with pytest.raises(RejectedInput):
            await env.client.create(REQ)


async def test_throttle_is_retried_then_succeeds(env: Env) -> None:
    env.fake.create_faults.append("throttle")
    start = env.clock.now()
    task_id = await env.client.create(REQ)
    assert len(env.fake.creates()) == 2 and list(env.fake.tasks) == [task_id]
    assert env.clock.now() - start >= 1.0  # honoured Retry-After: 1


async def test_throttle_backoff_schedule_then_gives_up(env: Env) -> None:
    env.fake.retry_after = None
    env.fake.create_faults.extend(["throttle"] * 4)
    clock = RecordingClock(env.clock)
    client = HappyHorseClient(env.session, base_url=env.fake.base_url, api_key=KEY, clock=clock)
    with pytest.raises(Throttled) as info:
        await client.create(REQ)
    assert clock.sleeps == [1.0, 4.0, 16.0]
    assert len(env.fake.creates()) == 4 and env.fake.tasks == {}
    assert info.value.retry_after is None


async def test_retry_after_is_honoured_and_capped(env: Env) -> None:
    env.fake.create_faults.extend(["throttle"] * 3)
    clock = RecordingClock(env.clock)
    client = HappyHorseClient(env.session, base_url=env.fake.base_url, api_key=KEY, clock=clock)
    env.fake.retry_after = "2"
    await client.create(REQ)
    env.fake.create_faults.append("throttle")
    env.fake.retry_after = "86400"
    await client.create(REQ)
    assert clock.sleeps == [2.0, 2.0, 2.0, 60.0]


@pytest.mark.parametrize(("fault", "tasks"), [("5xx", 0), ("500_after", 1)])
async def test_a_json_500_is_one_create_never_two(env: Env, fault: str, tasks: int) -> None:
    """A gateway answers a JSON 500 when its upstream call timed out after sending: from the
    answer alone the client can't tell whether a task was made, so it never sends another."""
    env.fake.create_faults.extend([fault, fault])
    with pytest.raises(UnknownOutcome) as info:
        await env.client.create(REQ)
    assert info.value.status == 500
    assert len(env.fake.creates()) == 1 and len(env.fake.tasks) == tasks
    env.fake.create_faults.clear()


@pytest.mark.parametrize("fault", ["5xx", "503", "gateway_timeout"])
async def test_no_5xx_is_retried(env: Env, fault: str) -> None:
    env.fake.create_faults.append(fault)
    with pytest.raises(UnknownOutcome):
        await env.client.create(REQ)
    assert len(env.fake.creates()) == 1


@pytest.mark.parametrize(
    ("fault", "tasks"),
    [
        ("lost", 1),
        ("reset", 0),
        ("slow", 1),
        ("stall", 1),
        ("stall_before", 0),
        ("gateway_timeout", 1),
        ("garbage", 1),
        ("5xx", 0),
        ("500_after", 1),
    ],
)
async def test_maybe_created_is_unknown_outcome_never_retried(
    env: Env, fault: str, tasks: int
) -> None:
    env.fake.create_faults.append(fault)
    with pytest.raises(UnknownOutcome) as info:
        await env.client.create(REQ)
    assert len(env.fake.creates()) == 1  # a second create would be billed again
    assert len(env.fake.tasks) == tasks
    assert_secret_free(info.value)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connection_refused_is_retried_and_gives_up() -> None:
    clock = RecordingClock(ScaledClock(factor=1000))
    async with aiohttp.ClientSession() as session:
        client = HappyHorseClient(
            session, base_url=f"http://127.0.0.1:{_free_port()}", api_key=KEY, clock=clock
        )
        with pytest.raises(UpstreamError) as info:
            await client.create(REQ)
    assert info.value.task_may_exist is False and info.value.status is None
    assert clock.sleeps == [1.0, 4.0, 16.0]
    assert_secret_free(info.value)


async def test_connection_refused_then_success() -> None:
    inner = ScaledClock(factor=1000)
    fake = FakeHappyHorse(api_key=KEY, clock=inner)
    port = _free_port()
    clock = RecordingClock(inner, on_first_sleep=lambda: fake.start(port))
    try:
        async with aiohttp.ClientSession() as session:
            client = HappyHorseClient(
                session, base_url=f"http://127.0.0.1:{port}", api_key=KEY, clock=clock
            )
            task_id = await client.create(REQ)
    finally:
        await fake.close()
    assert clock.sleeps == [1.0] and list(fake.tasks) == [task_id] and len(fake.creates()) == 1


# -- poll -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["apiyi", "dashscope", "gateway", "openai"])
@pytest.mark.parametrize("quirk", [None, "gzip_label_quirk", "gzip_body_quirk"])
async def test_poll_lifecycle_every_shape(shape: str, quirk: str | None) -> None:
    async with make_env(factor=1.0) as env:  # factor 1: only advance() moves time
        env.fake.poll_shape = shape
        if quirk:
            setattr(env.fake, quirk, True)
        task_id = await env.client.create(REQ)
        seen = []
        for step in (0, 15, 15, 80):
            env.clock.advance(step)
            status = await env.client.poll(task_id)
            seen.append((status.state, status.progress))
        expected_progress = [0, 10, 30] if shape != "dashscope" else [0, 0, 0]
        assert seen[:3] == [(TaskState.RUNNING, p) for p in expected_progress]
        assert seen[3] == (TaskState.SUCCEEDED, 100)
        assert status.video_url and status.video_url.startswith(env.fake.base_url + "/files/")
        polls = env.fake.polls()
        assert len(polls) == 4 and all(r.method == "GET" for r in polls)
        assert polls[0].path == f"/v1/tasks/{task_id}"
        assert polls[0].header("Authorization") == f"Bearer {KEY}"
        assert polls[0].header("Accept-Encoding") == "identity"
        assert polls[0].header("X-DashScope-Async") is None


@pytest.mark.parametrize("shape", ["apiyi", "dashscope", "gateway", "openai"])
@pytest.mark.parametrize(
    "code", ["InvalidImageUrl", "InvalidParameter", "DataInspectionFailed", "InternalError"]
)
async def test_poll_failed_task(shape: str, code: str) -> None:
    async with make_env(factor=1.0) as env:
        env.fake.poll_shape = shape
        env.fake.scripts.append(
            TaskScript(duration=10, outcome="failed", fail_code=code, fail_message="nope")
        )
        task_id = await env.client.create(REQ)
        env.clock.advance(11)
        status = await env.client.poll(task_id)
    assert status.state is TaskState.FAILED and status.video_url is None
    assert status.error_code == code
    assert status.error_message is not None and "nope" in status.error_message


@pytest.mark.parametrize("shape", ["apiyi", "dashscope", "gateway", "openai"])
async def test_poll_unknown_and_expired_ids(env: Env, shape: str) -> None:
    env.fake.poll_shape = shape
    task_id = await env.client.create(REQ)
    env.fake.expire(task_id)
    assert (await env.client.poll(task_id)).state is TaskState.EXPIRED
    assert (await env.client.poll("no-such-task")).state is TaskState.EXPIRED
    env.fake.poll_faults.append("unknown")
    other = await env.client.create(REQ)
    assert (await env.client.poll(other)).state is TaskState.EXPIRED


@pytest.mark.parametrize(
    ("fault", "cls", "status"),
    [
        ("5xx", UpstreamError, 500),
        ("429", Throttled, 429),
        ("slow", UpstreamError, None),
        ("reset", UpstreamError, None),
        ("garbage", UpstreamError, 200),
        ("auth", AuthError, 401),
    ],
)
async def test_poll_faults_raise_and_next_poll_works(
    env: Env, fault: str, cls: type[ApiError], status: int | None
) -> None:
    env.fake.scripts.append(TaskScript(duration=10_000))  # outlives a 0.3 s (300 virtual s) stall
    task_id = await env.client.create(REQ)
    # aiohttp itself repeats a GET once after a reset; the poll fails only if both attempts do.
    env.fake.poll_faults.extend([fault, fault] if fault == "reset" else [fault])
    with pytest.raises(cls) as info:
        await env.client.poll(task_id)
    assert type(info.value) is cls and info.value.status == status
    if isinstance(info.value, Throttled):
        assert info.value.retry_after == 1.0
    assert_secret_free(info.value)
    assert (await env.client.poll(task_id)).state is TaskState.RUNNING


# -- download -------------------------------------------------------------------------------


async def _finished_url(env: Env, script: TaskScript | None = None) -> str:
    env.fake.scripts.append(script or TaskScript(duration=0))
    status = await env.client.poll(await env.client.create(REQ))
    assert status.state is TaskState.SUCCEEDED and status.video_url
    return status.video_url


def _leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir())


async def test_download_streams_bytes_without_authorization(env: Env, tmp_path: Path) -> None:
    url = await _finished_url(env)
    dest = tmp_path / "out.mp4"
    size = await env.client.download(url, dest, max_bytes=1 << 20, chunk_size=1000)
    assert size == len(env.fake.video_bytes) and dest.read_bytes() == env.fake.video_bytes
    assert _leftovers(tmp_path) == ["out.mp4"]
    (rec,) = env.fake.downloads()
    assert rec.header("Authorization") is None
    assert all(KEY not in value for value in rec.headers.values())


async def test_download_large_body(env: Env, tmp_path: Path) -> None:
    big = b"\0" * (8 * 1024 * 1024 + 17)
    url = await _finished_url(env, TaskScript(duration=0, video=big))
    dest = tmp_path / "big.mp4"
    assert await env.client.download(url, dest, max_bytes=len(big)) == len(big)
    assert dest.stat().st_size == len(big)


@pytest.mark.parametrize(
    ("fault", "max_bytes", "status"),
    [
        (None, 1000, None),  # Content-Length over the limit: refused before streaming
        ("nolength", 1000, None),  # no Content-Length: counted while streaming
        ("truncated", 1 << 20, None),
        ("403", 1 << 20, 403),
        ("404", 1 << 20, 404),
    ],
)
async def test_download_failures_leave_no_file(
    env: Env, tmp_path: Path, fault: str | None, max_bytes: int, status: int | None
) -> None:
    url = await _finished_url(env)
    if fault:
        env.fake.download_faults.append(fault)
    with pytest.raises(DownloadError) as info:
        await env.client.download(url, tmp_path / "out.mp4", max_bytes=max_bytes)
    assert info.value.status == status
    assert _leftovers(tmp_path) == []
    assert "Signature=" not in str(info.value) or "Signature=***" in str(info.value)


async def test_download_expired_link(env: Env, tmp_path: Path) -> None:
    url = await _finished_url(env)
    env.clock.advance(86400 + 60)
    with pytest.raises(DownloadError) as info:
        await env.client.download(url, tmp_path / "out.mp4", max_bytes=1 << 20)
    assert info.value.status == 403 and "AccessDenied" in str(info.value)
    assert _leftovers(tmp_path) == []


async def test_download_too_slow_times_out(tmp_path: Path) -> None:
    async with make_env(factor=10.0, download_timeout=0.2) as env:
        url = await _finished_url(env)
        env.fake.download_faults.append("slow")
        with pytest.raises(DownloadError):
            await env.client.download(url, tmp_path / "out.mp4", max_bytes=1 << 20)
    assert _leftovers(tmp_path) == []


async def test_download_rejects_non_http_url(env: Env, tmp_path: Path) -> None:
    with pytest.raises(DownloadError):
        await env.client.download("file:///etc/passwd", tmp_path / "x", max_bytes=10)


# -- secrets --------------------------------------------------------------------------------


async def test_secret_never_in_errors_logs_or_repr(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[HHError] = []
    env.fake.create_faults.extend(["throttle", "throttle", "throttle", "throttle", "balance"])
    env.fake.create_faults.append("lost")
    for _ in range(3):
        with pytest.raises(HHError) as info:
            await env.client.create(REQ)
        errors.append(info.value)
    env.fake.poll_faults.extend(["5xx", "reset", "reset"])
    for _ in range(2):
        with pytest.raises(HHError) as info:
            await env.client.poll("x")
        errors.append(info.value)
    expected: list[type[HHError]] = [
        Throttled,
        OutOfBalance,
        UnknownOutcome,
        UpstreamError,
        UpstreamError,
    ]
    assert [type(e) for e in errors] == expected
    for err in errors:
        assert_secret_free(err)
    assert KEY not in caplog.text and KEY not in repr(env.client)
    assert "retrying" in caplog.text


async def test_client_refuses_session_with_default_credentials() -> None:
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer x"}) as session:
        with pytest.raises(ValueError):
            HappyHorseClient(session, base_url="http://127.0.0.1:1", api_key=KEY)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValueError) as info:
            HappyHorseClient(session, base_url="http://127.0.0.1:1", api_key=f"{KEY}\r\nX: y")
        assert KEY not in str(info.value)


@pytest.mark.parametrize("failure", ["dns", "refused"])
async def test_an_unreachable_api_is_one_line_per_attempt_naming_it(
    caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    """DNS failure or refused connection at first use: never sent, so retried; each attempt
    logs one line naming the host that can't be reached, never a traceback."""
    from hh_bot.references.resolvers import AiohttpResolver, StaticResolver

    caplog.set_level(logging.DEBUG, logger="hh_bot")
    if failure == "dns":
        base = "https://api.unreachable.example"
        connector = aiohttp.TCPConnector(resolver=AiohttpResolver(StaticResolver({})))
    else:
        base = f"http://127.0.0.1:{_free_port()}"
        connector = aiohttp.TCPConnector()
    host = base.split("://")[1]
    async with aiohttp.ClientSession(connector=connector) as session:
        client = HappyHorseClient(
            session, base_url=base, api_key=KEY, clock=ScaledClock(factor=1000.0)
        )
        with pytest.raises(UpstreamError) as info:
            await client.create(REQ)
    assert info.value.task_may_exist is False and host.split(":")[0] in str(info.value)
    lines = [r for r in caplog.records if r.name.startswith("hh_bot")]
    assert len(lines) == 3  # attempts 1-3 say they retry; the 4th is the raised error
    for record in lines:
        assert record.exc_info is None and "\n" not in record.getMessage()
        assert host.split(":")[0] in record.getMessage()
        assert KEY not in record.getMessage()
