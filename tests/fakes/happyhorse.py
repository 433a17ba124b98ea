"""A faithful fake of HappyHorse r2v behind APIYI: create, poll, signed download, on 127.0.0.1.

Time is the injected clock's, so a ``ScaledClock`` shared with the client runs a two-minute task
in about a second. Behaviour is steered with public knobs (deques of faults and scripts, the poll
shape, the gzip quirks); every request is recorded. Follows the last section of
``/work/shared/spec/happyhorse-api.md`` ("What a faithful test fake must do").
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gzip
import hashlib
import hmac
import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from hh_bot.clock import Clock, SystemClock
from tests.fakes import happyhorse_shapes as shapes
from tests.fakes.mp4 import make_mp4

CREATE_PATH = "/wan/api/v1/services/aigc/video-generation/video-synthesis"
#: Transport faults, on every route: "reset" drops the connection before handling the request
#: (nothing happens), "lost" handles it and then drops the connection (the effect happens, the
#: answer is lost), "stall" handles it and then answers nothing until the client gives up.
#: Create only: "5xx" refuses with a JSON 500 before creating; "500_after" creates the task and
#: then answers a JSON 500 (a gateway whose upstream call timed out after sending); "slow" is
#: the older name of "stall"; "stall_before" hangs without creating anything.
CREATE_FAULTS = frozenset(
    {"throttle", "balance", "5xx", "503", "500_after", "auth", "forbidden", "moderation", "reset"}
    | {"slow", "stall", "stall_before", "lost", "gateway_timeout", "garbage"}
)
POLL_FAULTS = frozenset(
    {"5xx", "429", "slow", "stall", "reset", "lost", "garbage", "unknown", "auth", "forbidden"}
)
DOWNLOAD_FAULTS = frozenset(
    {"403", "404", "truncated", "slow", "nolength", "reset", "lost", "stall", "html", "redirect"}
)
# How long a task reports "submitted" (progress 0), and until when it reports 10 before the 30
# it keeps to the end (spec: upstream only reports 0/10/30/100, "sits at 30 for most of the run").
QUEUED_SECONDS = 10.0
STARTING_SECONDS = 25.0


@dataclass
class TaskScript:
    """How one created task behaves."""

    duration: float = 120.0
    outcome: str = "success"  # "success" | "failed"
    fail_code: str = "InternalError"
    fail_message: str = "An internal error has occurred."
    video: bytes | None = None
    held: asyncio.Event | None = None  # a test's gate: stays in progress until it is set


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any | None
    at: float

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


RECORD = web.RequestKey("record", RecordedRequest)  # the request's record, for its handler


@dataclass
class FakeTask:
    task_id: str
    created_at: float
    script: TaskScript
    body: Any
    polls: int = 0
    expired: bool = False

    @property
    def finishes_at(self) -> float:
        return self.created_at + self.script.duration


@dataclass(kw_only=True, eq=False, repr=False)
class FakeHappyHorse:
    api_key: str = "test-api-key"
    clock: Clock = None  # type: ignore[assignment]  # None -> SystemClock()
    default_script: TaskScript = None  # type: ignore[assignment]  # None -> TaskScript()
    poll_shape: str = "apiyi"  # "apiyi" | "dashscope" | "gateway" | "openai"
    create_shape: str = "dashscope"  # "dashscope" (output.task_id) | "flat" (top-level task_id)
    gzip_label_quirk: bool = False  # JSON bodies say Content-Encoding: gzip but are plain
    gzip_body_quirk: bool = False  # JSON bodies really are gzip despite Accept-Encoding: identity
    retry_after: str | None = "1"  # Retry-After sent with 429 throttles
    slow_delay: float = 3600.0  # clock seconds a "slow" fault stalls (ends early on close)
    trickle_interval: float = 5.0  # clock seconds between 1 KiB chunks of a "slow" download
    bad_result_url: str | None = None  # when set, completed tasks point here (a bad gateway)
    url_ttl: float = 86400.0  # signed result URLs expire this long after completion
    fresh_urls: bool = False  # each poll signs a new link, valid url_ttl from the poll on
    task_ttl: float = 86400.0  # task ids are forgotten this long after creation
    video_bytes: bytes = field(default_factory=make_mp4)
    requests: list[RecordedRequest] = field(default_factory=list)
    tasks: dict[str, FakeTask] = field(default_factory=dict)
    scripts: collections.deque[TaskScript] = field(default_factory=collections.deque)
    create_faults: collections.deque[str] = field(default_factory=collections.deque)
    poll_faults: collections.deque[str] = field(default_factory=collections.deque)
    download_faults: collections.deque[str] = field(default_factory=collections.deque)
    max_active: int = 0
    base_url: str = ""

    def __post_init__(self) -> None:
        self.clock = self.clock or SystemClock()
        self.default_script = self.default_script or TaskScript()
        self._secret = os.urandom(16)
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, port: int = 0) -> str:
        app = web.Application(middlewares=[self._record])
        app.router.add_post(CREATE_PATH, self._create)
        app.router.add_get("/v1/tasks/{task_id}", self._poll)
        app.router.add_get("/files/{name}", self._download)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.base_url

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- what tests look at -----------------------------------------------------------------

    def creates(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path == CREATE_PATH]

    def polls(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.startswith("/v1/tasks/")]

    def downloads(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.startswith("/files/")]

    @property
    def active_now(self) -> int:
        now = self.clock.now()
        return sum(
            1 for t in self.tasks.values() if not t.expired and t.created_at <= now < t.finishes_at
        )

    def expire(self, task_id: str) -> None:
        self.tasks[task_id].expired = True

    def result_url(self, task_id: str, expires: int) -> str:
        path = f"/files/{task_id}.mp4"
        return f"{self.base_url}{path}?Expires={expires}&Signature={self._sign(path, expires)}"

    # -- handlers -------------------------------------------------------------------------

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        parsed: Any = None
        with contextlib.suppress(ValueError):
            parsed = json.loads(body) if body else None
        record = RecordedRequest(
            request.method,
            request.path,
            dict(request.query),
            dict(request.headers),
            body,
            parsed,
            self.clock.now(),
        )
        self.requests.append(record)
        request[RECORD] = record  # handlers answer as of record.at: one instant per request
        self.max_active = max(self.max_active, self.active_now)
        response: web.StreamResponse = await handler(request)
        return response

    async def _create(self, request: web.Request) -> web.StreamResponse:
        fault = self._pop(self.create_faults, CREATE_FAULTS)
        if fault == "throttle":
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            body = shapes.dashscope_error(
                "Throttling.RateQuota", "Requests rate limit exceeded, please try again later."
            )
            return self._json(429, body, headers)
        if fault == "balance":
            message = "insufficient account balance: user quota is not enough"
            code = "insufficient_user_quota"
            return self._json(429, shapes.openai_error(message, type_="new_api_error", code=code))
        if fault == "5xx":
            return self._json(500, shapes.dashscope_error("InternalError", "Internal error."))
        if fault == "503":
            msg = "The service is temporarily unavailable."
            return self._json(503, shapes.dashscope_error("ServiceUnavailable", msg))
        if fault == "auth":
            return self._json(401, shapes.auth_error("invalid token"))
        if fault == "forbidden":
            msg = "group default is not allowed to use model happyhorse-1.0-r2v"
            return self._json(403, shapes.dashscope_error("AccessDenied", msg))
        if fault == "moderation":
            msg = "Input data may contain inappropriate content."
            return self._json(400, shapes.dashscope_error("DataInspectionFailed", msg))
        if fault == "reset":
            return self._drop(request)
        if fault == "stall_before":
            await self._stall(self.slow_delay)
            return self._drop(request)
        refusal = self._check_create(request)
        if refusal is not None:
            return refusal
        task = self._new_task(self.requests[-1].json)
        if fault == "lost":
            return self._drop(request)
        if fault == "500_after":
            return self._json(500, shapes.dashscope_error("InternalError", "Internal error."))
        if fault == "gateway_timeout":
            return web.Response(status=504, text="<html><body>504 Gateway Time-out</body></html>")
        if fault == "garbage":
            return web.Response(status=200, text="<html>upstream says hello</html>")
        if fault in ("slow", "stall"):
            await self._stall(self.slow_delay)
        return self._json(200, shapes.create_body(task.task_id, self.create_shape))

    def _check_create(self, request: web.Request) -> web.StreamResponse | None:
        auth = request.headers.get("Authorization", "")
        if auth != f"Bearer {self.api_key}":
            token = auth.removeprefix("Bearer ").strip()
            message = f"Incorrect API key provided: {token}" if token else "No API key provided"
            return self._json(401, shapes.auth_error(message))
        if request.headers.get("X-DashScope-Async") != "enable":
            msg = "current user api does not support synchronous calls."
            return self._json(403, shapes.dashscope_error("AccessDenied", msg))
        refusal = shapes.validate_create(self.requests[-1].json)
        return None if refusal is None else self._json(*refusal)

    def _new_task(self, body: Any) -> FakeTask:
        script = self.scripts.popleft() if self.scripts else self.default_script
        task = FakeTask(f"hh-{uuid.uuid4().hex}", self.clock.now(), script, body)
        self.tasks[task.task_id] = task
        self.max_active = max(self.max_active, self.active_now)
        return task

    async def _poll(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._json(401, shapes.auth_error("invalid token"))
        task_id = request.match_info["task_id"]
        fault = self._pop(self.poll_faults, POLL_FAULTS)
        if fault == "5xx":
            return self._json(500, shapes.dashscope_error("InternalError", "Internal error."))
        if fault == "429":
            body = shapes.dashscope_error("Throttling", "Requests rate limit exceeded.")
            return self._json(429, body, {"Retry-After": self.retry_after or "1"})
        if fault == "auth":
            return self._json(401, shapes.auth_error("invalid token"))
        if fault == "forbidden":
            msg = "group default is not allowed to use model happyhorse-1.0-r2v"
            return self._json(403, shapes.dashscope_error("AccessDenied", msg))
        if fault == "reset":
            return self._drop(request)
        if fault == "garbage":
            return web.Response(status=200, text="<html>502 bad gat", content_type="text/html")
        task = None if fault == "unknown" else self.tasks.get(task_id)
        if task is not None:
            task.polls += 1
        if fault == "lost":
            return self._drop(request)
        if fault in ("slow", "stall"):
            await self._stall(self.slow_delay)
        # As of the instant the poll was recorded, not a moment later: a poll recorded before
        # ``finishes_at`` must never be the one that says "completed" (the benchmark finds the
        # poll that saw a task finish by its recorded time).
        view = self._view(task, request[RECORD].at)
        return self._json(*shapes.poll_body(self.poll_shape, task_id, view))

    def _view(self, task: FakeTask | None, now: float) -> shapes.TaskView | None:
        if task is None:
            return None
        age, script = now - task.created_at, task.script
        if task.expired or age > self.task_ttl:
            return shapes.TaskView(task.task_id, "unknown", 0)
        if age >= script.duration and (script.held is None or script.held.is_set()):
            if script.outcome == "failed":
                return shapes.TaskView(
                    task.task_id, "failed", 100, None, script.fail_code, script.fail_message
                )
            signed_at = now if self.fresh_urls else task.finishes_at
            url = self.bad_result_url or self.result_url(
                task.task_id, int(signed_at + self.url_ttl)
            )
            return shapes.TaskView(task.task_id, "completed", 100, url)
        # The API's model, not a clock of the run: "submitted" (0) while queued, "in_progress"
        # 10 while it starts, then 30 for the rest of the run, whatever its length. A fixed
        # few seconds each (shorter for very short tasks), so progress says "started", never
        # "how far along".
        if age < min(QUEUED_SECONDS, 0.1 * script.duration):
            return shapes.TaskView(task.task_id, "submitted", 0)
        progress = 10 if age < min(STARTING_SECONDS, 0.25 * script.duration) else 30
        return shapes.TaskView(task.task_id, "in_progress", progress)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if "Authorization" in request.headers:
            return self._xml(403, "SignatureDoesNotMatch", "Authorization header not allowed")
        path = request.path
        expires = request.query.get("Expires", "")
        signature = request.query.get("Signature", "")
        if not expires.isdigit() or not hmac.compare_digest(
            signature, self._sign(path, int(expires))
        ):
            return self._xml(403, "SignatureDoesNotMatch", "The request signature is invalid")
        if int(expires) < self.clock.now():
            return self._xml(403, "AccessDenied", "Request has expired")
        task = self.tasks.get(request.match_info["name"].removesuffix(".mp4"))
        fault = self._pop(self.download_faults, DOWNLOAD_FAULTS)
        if task is None or fault == "404":
            return self._xml(404, "NoSuchKey", "The specified key does not exist.")
        if fault == "403":
            return self._xml(403, "AccessDenied", "Request has expired")
        if fault == "reset":
            return self._drop(request)
        if fault == "stall":
            await self._stall(self.slow_delay)
            return self._drop(request)
        if fault == "redirect":  # to the same, valid link: a client that follows gets a video
            raise web.HTTPFound(str(request.url))
        if fault == "html":
            return web.Response(status=200, text="<html>sign in</html>", content_type="text/html")
        data = task.script.video if task.script.video is not None else self.video_bytes
        resp = web.StreamResponse(status=200, headers={"Content-Type": "video/mp4"})
        if fault == "nolength":
            resp.enable_chunked_encoding()
        else:
            resp.content_length = len(data)
        await resp.prepare(request)
        if fault == "lost":  # the headers went out, then the connection dropped
            self._drop(request)
            return resp
        if fault == "truncated":
            await resp.write(data[: len(data) // 2])
            self._drop(request)
            return resp
        step = 1024 if fault == "slow" else 65536
        for start in range(0, len(data), step):
            await resp.write(data[start : start + step])
            if fault == "slow" and not await self._stall(self.trickle_interval):
                return resp
        await resp.write_eof()
        return resp

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _pop(queue: collections.deque[str], known: frozenset[str]) -> str | None:
        if not queue:
            return None
        fault = queue.popleft()
        if fault not in known:
            raise ValueError(f"unknown fault {fault!r}; known: {sorted(known)}")
        return fault

    def _sign(self, path: str, expires: int) -> str:
        return hmac.new(self._secret, f"{path}:{expires}".encode(), hashlib.sha256).hexdigest()

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
        payload = json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if self.gzip_body_quirk:
            payload = gzip.compress(payload)
        if self.gzip_body_quirk or self.gzip_label_quirk:
            all_headers["Content-Encoding"] = "gzip"
        return web.Response(status=status, body=payload, headers=all_headers)

    @staticmethod
    def _xml(status: int, code: str, message: str) -> web.Response:
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        )
        return web.Response(status=status, text=text, content_type="application/xml")

    @staticmethod
    def _drop(request: web.Request) -> web.Response:
        """Close the connection without an answer (the returned response is never written)."""
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=204)

    async def _stall(self, seconds: float) -> bool:
        """Sleep ``seconds`` of clock time; False if the fake closed first."""
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        closer = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({sleeper, closer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            closer.cancel()
        return not self._closing.is_set()
