"""The fake HappyHorse server itself, driven with raw HTTP so it is trusted by the client tests."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from hh_bot.clock import ScaledClock
from tests.fakes.happyhorse import CREATE_PATH, FakeHappyHorse, TaskScript
from tests.fakes.mp4 import make_mp4, top_level_boxes

KEY = "fake-key-123"
AUTH = {"Authorization": f"Bearer {KEY}", "X-DashScope-Async": "enable"}
BODY: dict[str, Any] = {
    "model": "happyhorse-1.0-r2v",
    "input": {
        "prompt": "character1 walks",
        "media": [{"type": "reference_image", "url": "https://img.example.com/a.png"}],
    },
    "parameters": {"resolution": "720P", "duration": 5, "ratio": "16:9", "watermark": False},
}


@pytest.fixture
def clock() -> ScaledClock:
    # factor 1: time only moves when a test calls advance(), so phases are deterministic.
    return ScaledClock(factor=1.0)


@pytest.fixture
async def fake(clock: ScaledClock) -> AsyncIterator[FakeHappyHorse]:
    server = FakeHappyHorse(api_key=KEY, clock=clock, default_script=TaskScript(duration=100))
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        yield session


async def _create(
    http: aiohttp.ClientSession, fake: FakeHappyHorse, body: Any = BODY, **headers: str
) -> tuple[int, Any]:
    hdrs = {**AUTH, **headers}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with http.post(fake.base_url + CREATE_PATH, data=data, headers=hdrs) as resp:
        return resp.status, json.loads(await resp.read())


async def _poll(http: aiohttp.ClientSession, fake: FakeHappyHorse, task_id: str) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {KEY}"}
    async with http.get(f"{fake.base_url}/v1/tasks/{task_id}", headers=headers) as resp:
        return resp.status, json.loads(await resp.read())


async def test_create_returns_new_ids_and_records(
    http: aiohttp.ClientSession, fake: FakeHappyHorse
) -> None:
    s1, b1 = await _create(http, fake)
    s2, b2 = await _create(http, fake)
    assert (s1, s2) == (200, 200)
    assert b1["output"]["task_status"] == "PENDING"
    assert b1["output"]["task_id"] != b2["output"]["task_id"]
    assert set(fake.tasks) == {b1["output"]["task_id"], b2["output"]["task_id"]}
    assert len(fake.creates()) == 2
    rec = fake.creates()[0]
    assert rec.json == BODY and rec.header("x-dashscope-async") == "enable"
    assert fake.active_now == 2 and fake.max_active == 2


async def test_create_requires_key_and_async_header(
    http: aiohttp.ClientSession, fake: FakeHappyHorse
) -> None:
    status, body = await _create(http, fake, Authorization="Bearer nope")
    assert status == 401 and body["error"]["code"] == "invalid_api_key"
    status, body = await _create(http, fake, Authorization="")
    assert status == 401
    status, body = await _create(http, fake, **{"X-DashScope-Async": "disable"})
    assert status == 403 and "synchronous" in body["message"]
    assert fake.tasks == {}


def _mutate(path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(BODY)
    *parents, last = path.split(".")
    node: Any = body
    for key in parents:
        node = node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return body


_DELETE = object()
IMG = {"type": "reference_image", "url": "https://img.example.com/a.png"}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("model", "wan2.2-r2v"),
        ("input.prompt", ""),
        ("input.prompt", "x" * 5001),
        ("input.prompt", _DELETE),
        ("input.media", []),
        ("input.media", [IMG] * 10),
        ("input.media", [{"type": "first_frame", "url": IMG["url"]}]),
        ("input.media", [{"type": "reference_image", "url": "ftp://x/a.png"}]),
        ("input.media", [{"type": "reference_image", "url": "a.png"}]),
        ("parameters.duration", "5"),
        ("parameters.duration", 2),
        ("parameters.duration", 16),
        ("parameters.duration", 5.5),
        ("parameters.resolution", "480P"),
        ("parameters.ratio", "21:9"),
        ("parameters.seed", -1),
        ("parameters.seed", 2147483648),
        ("parameters.seed", "42"),
        ("parameters.watermark", "false"),
        ("parameters.prompt_extend", 1),
    ],
)
async def test_create_validation(
    http: aiohttp.ClientSession, fake: FakeHappyHorse, path: str, value: Any
) -> None:
    status, body = await _create(http, fake, _mutate(path, value))
    assert status == 400 and body["code"] == "InvalidParameter"
    assert fake.tasks == {}


async def test_create_accepts_limits(http: aiohttp.ClientSession, fake: FakeHappyHorse) -> None:
    body = _mutate("input.media", [IMG] * 9)
    body["input"]["prompt"] = "x" * 5000
    body["parameters"].update(duration=15, seed=2147483647, prompt_extend=True)
    assert (await _create(http, fake, body))[0] == 200
    assert (await _create(http, fake, b"not json"))[0] == 400


async def test_lifecycle_and_signed_download(
    http: aiohttp.ClientSession, fake: FakeHappyHorse, clock: ScaledClock
) -> None:
    _, created = await _create(http, fake)
    task_id = created["output"]["task_id"]
    seen = []
    for step in (0, 15, 15, 50, 30):
        clock.advance(step)
        status, body = await _poll(http, fake, task_id)
        assert status == 200
        seen.append((body["status"], body["progress"]))
    assert seen == [
        ("submitted", 0),
        ("in_progress", 10),
        ("in_progress", 30),
        ("in_progress", 30),
        ("completed", 100),
    ]
    assert fake.tasks[task_id].polls == 5 and fake.active_now == 0
    url = body["result_url"]
    async with http.get(url) as resp:
        data = await resp.read()
        assert resp.status == 200 and resp.headers["Content-Type"] == "video/mp4"
    assert data == fake.video_bytes
    assert [b for b, _ in top_level_boxes(data)] == ["ftyp", "moov", "mdat"]
    async with http.get(url, headers={"Authorization": f"Bearer {KEY}"}) as resp:
        assert resp.status == 403 and b"SignatureDoesNotMatch" in await resp.read()
    async with http.get(url.replace("Signature=", "Signature=0")) as resp:
        assert resp.status == 403
    clock.advance(86400 + 1)
    async with http.get(url) as resp:
        assert resp.status == 403 and b"expired" in await resp.read()
    assert (await _poll(http, fake, task_id))[1]["status"] == "unknown"  # past the 24 h task life
    assert [r.header("Authorization") for r in fake.downloads()] == [
        None,
        f"Bearer {KEY}",
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("shape", "running", "done"),
    [
        ("dashscope", "RUNNING", "SUCCEEDED"),
        ("gateway", "IN_PROGRESS", "SUCCESS"),
        ("openai", "in_progress", "completed"),
    ],
)
async def test_poll_shapes(
    http: aiohttp.ClientSession,
    fake: FakeHappyHorse,
    clock: ScaledClock,
    shape: str,
    running: str,
    done: str,
) -> None:
    fake.poll_shape = shape
    task_id = (await _create(http, fake))[1]["output"]["task_id"]
    clock.advance(50)
    body = (await _poll(http, fake, task_id))[1]

    def words(b: Any) -> str:
        inner = {"dashscope": b.get("output"), "gateway": b.get("data"), "openai": b}[shape]
        return str(inner.get("task_status") or inner.get("status"))

    assert words(body) == running
    clock.advance(60)
    assert words((await _poll(http, fake, task_id))[1]) == done
    status, _ = await _poll(http, fake, "nope")
    assert status in {200, 400, 404}


async def test_failed_script_and_expire(
    http: aiohttp.ClientSession, fake: FakeHappyHorse, clock: ScaledClock
) -> None:
    fake.scripts.append(TaskScript(duration=10, outcome="failed", fail_code="InvalidImageUrl"))
    failed_id = (await _create(http, fake))[1]["output"]["task_id"]
    other_id = (await _create(http, fake))[1]["output"]["task_id"]
    clock.advance(11)
    body = (await _poll(http, fake, failed_id))[1]
    assert body["status"] == "failed" and body["error"]["code"] == "InvalidImageUrl"
    assert body["fail_reason"].startswith("[InvalidImageUrl]")
    fake.expire(other_id)
    assert (await _poll(http, fake, other_id))[1]["status"] == "unknown"
    status, body = await _poll(http, fake, "never-made")
    assert status == 404 and body["error"]["code"] == "task_not_exist"


async def test_create_faults(http: aiohttp.ClientSession, fake: FakeHappyHorse) -> None:
    fake.create_faults.extend(["throttle", "balance", "5xx", "moderation"])
    status, body = await _create(http, fake)
    assert status == 429 and body["code"].startswith("Throttling")
    status, body = await _create(http, fake)
    assert status == 429 and "balance" in body["error"]["message"]
    assert (await _create(http, fake))[0] == 500
    assert (await _create(http, fake))[1]["code"] == "DataInspectionFailed"
    assert fake.tasks == {}
    fake.create_faults.append("lost")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await _create(http, fake)
    assert len(fake.tasks) == 1 and len(fake.creates()) == 5
    fake.create_faults.append("bogus")
    async with http.post(fake.base_url + CREATE_PATH, data=b"{}") as resp:
        assert resp.status == 500  # an unknown fault name is a test bug: fail loudly


async def test_poll_faults_and_gzip_quirks(
    http: aiohttp.ClientSession, fake: FakeHappyHorse
) -> None:
    task_id = (await _create(http, fake))[1]["output"]["task_id"]
    fake.poll_faults.extend(["5xx", "429", "unknown", "garbage"])
    assert (await _poll(http, fake, task_id))[0] == 500
    assert (await _poll(http, fake, task_id))[0] == 429
    assert (await _poll(http, fake, task_id))[1]["error"]["code"] == "task_not_exist"
    with pytest.raises(json.JSONDecodeError):
        await _poll(http, fake, task_id)
    fake.gzip_label_quirk = True
    url, headers = f"{fake.base_url}/v1/tasks/{task_id}", {"Authorization": f"Bearer {KEY}"}
    async with http.get(url, headers=headers) as resp:
        assert resp.headers["Content-Encoding"] == "gzip"
        assert json.loads(await resp.read())["status"] == "submitted"
    fake.gzip_body_quirk = True
    async with http.get(url, headers=headers) as resp:
        assert json.loads(gzip.decompress(await resp.read()))["status"] == "submitted"


async def test_download_faults(
    http: aiohttp.ClientSession, fake: FakeHappyHorse, clock: ScaledClock
) -> None:
    fake.default_script = TaskScript(duration=0)
    task_id = (await _create(http, fake))[1]["output"]["task_id"]
    url = (await _poll(http, fake, task_id))[1]["result_url"]
    fake.download_faults.extend(["403", "404", "truncated", "nolength"])
    async with http.get(url) as resp:
        assert resp.status == 403
    async with http.get(url) as resp:
        assert resp.status == 404
    with pytest.raises(aiohttp.ClientPayloadError):
        async with http.get(url) as resp:
            await resp.read()
    async with http.get(url) as resp:
        assert resp.content_length is None and await resp.read() == fake.video_bytes


async def test_transport_faults_before_and_after_handling(
    http: aiohttp.ClientSession, fake: FakeHappyHorse
) -> None:
    """reset: dropped before handling, nothing made; lost: made, answer dropped; 500_after:
    made, then a JSON 500 like a gateway whose upstream call timed out after sending."""
    fake.create_faults.append("reset")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await _create(http, fake)
    assert fake.tasks == {}
    fake.create_faults.append("500_after")
    status, body = await _create(http, fake)
    assert status == 500 and body["code"] == "InternalError" and len(fake.tasks) == 1
    fake.create_faults.append("503")
    assert (await _create(http, fake))[0] == 503 and len(fake.tasks) == 1
    [task_id] = fake.tasks
    fake.poll_faults.extend(["lost", "lost"])  # aiohttp itself repeats a GET once
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await _poll(http, fake, task_id)
    assert fake.tasks[task_id].polls == 2  # both handled, both answers lost
    fake.poll_faults.append("forbidden")
    assert (await _poll(http, fake, task_id))[0] == 403


async def test_stalls_hold_until_the_client_gives_up(
    http: aiohttp.ClientSession, fake: FakeHappyHorse
) -> None:
    short = aiohttp.ClientTimeout(total=0.2)
    for fault, made in (("stall_before", 0), ("stall", 1)):
        fake.create_faults.append(fault)
        with pytest.raises(TimeoutError):
            async with http.post(
                fake.base_url + CREATE_PATH, data=json.dumps(BODY), headers=AUTH, timeout=short
            ) as resp:
                await resp.read()
        assert len(fake.tasks) == made


async def test_download_transport_faults(http: aiohttp.ClientSession, fake: FakeHappyHorse) -> None:
    fake.default_script = TaskScript(duration=0)
    task_id = (await _create(http, fake))[1]["output"]["task_id"]
    url = (await _poll(http, fake, task_id))[1]["result_url"]
    fake.download_faults.extend(["redirect", "html", "lost"])
    async with http.get(url, allow_redirects=False) as resp:
        assert resp.status == 302 and resp.headers["Location"] == url
    async with http.get(url) as resp:
        assert resp.status == 200 and resp.content_type == "text/html"
    with pytest.raises(aiohttp.ClientPayloadError):
        async with http.get(url) as resp:
            assert resp.content_type == "video/mp4"
            await resp.read()
    fake.download_faults.append("stall")
    with pytest.raises(TimeoutError):
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=0.2)) as resp:
            await resp.read()
    fake.bad_result_url = "http://169.254.169.254/latest/meta-data/"
    assert (await _poll(http, fake, task_id))[1]["result_url"] == fake.bad_result_url


def test_mp4_sizes() -> None:
    big = make_mp4(8 * 1024 * 1024)
    assert len(big) > 8 * 1024 * 1024
    assert sum(size for _, size in top_level_boxes(big)) == len(big)
    with pytest.raises(ValueError):
        top_level_boxes(big[:-1])


class TickingClock:
    """Every reading moves time on by ``tick``: time passes between any two looks at it, as it
    does on a busy machine (the fake's own bookkeeping took up to 0.35 virtual seconds per
    request at a 200x clock under CPU load)."""

    def __init__(self, start: float = 1_000_000.0, tick: float = 1.0) -> None:
        self.t = start
        self.tick = tick

    def now(self) -> float:
        self.t += self.tick
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0.0)


async def test_a_poll_is_answered_as_of_the_instant_it_was_recorded(
    http: aiohttp.ClientSession,
) -> None:
    """The benchmark finds the poll that saw a task finish by its recorded time. A poll
    recorded just before ``finishes_at`` but answered "completed" from a later clock reading
    left a delivered job without a detecting poll, and ``burst_delivered`` one short."""
    clock = TickingClock()
    fake = FakeHappyHorse(api_key=KEY, clock=clock, default_script=TaskScript(duration=100))
    await fake.start()
    try:
        _, created = await _create(http, fake)
        [task] = fake.tasks.values()
        clock.t = task.finishes_at - 0.5 - clock.tick  # the poll's record is 0.5 s before the end
        _, early = await _poll(http, fake, created["output"]["task_id"])
        assert fake.polls()[-1].at < task.finishes_at
        assert early["status"] == "in_progress", "answered from a later instant than recorded"
        _, late = await _poll(http, fake, created["output"]["task_id"])
        assert fake.polls()[-1].at >= task.finishes_at and late["status"] == "completed"
    finally:
        await fake.close()
