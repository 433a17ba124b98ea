"""The HappyHorse (via APIYI) client: create a task, poll it once, download the result.

Errors are the typed classes of ``hh_bot.errors``. Money rule for ``create``: a request is
repeated only when no task can exist — a 429 throttle, a connection that never opened, or a
5xx *answer* from the API itself (a JSON error body, not 502/504). Anything that may have
created a task — a timeout or reset after sending, 502/504 from a proxy, a 5xx without the
API's JSON body, a 2xx without a task id — raises ``UnknownOutcome`` and is never repeated.

Timeouts are real seconds (aiohttp's), all waits between retries go through the clock. The API
key only ever travels in the create/poll ``Authorization`` header: it is scrubbed from every
error text and never sent to the download host.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import aiohttp
import yarl

from hh_bot.clock import Clock, SystemClock
from hh_bot.errors import (
    ApiError,
    AuthError,
    DownloadError,
    ModerationBlocked,
    OutOfBalance,
    RejectedInput,
    Throttled,
    UnknownOutcome,
    UpstreamError,
)
from hh_bot.retry import create_backoff, is_balance_message, parse_retry_after
from hh_bot.task_status import TaskState, TaskStatus, parse_task_status

__all__ = ["CREATE_PATH", "CreateRequest", "HappyHorseClient", "TaskState", "TaskStatus"]

log = logging.getLogger(__name__)

CREATE_PATH = "/wan/api/v1/services/aigc/video-generation/video-synthesis"
POLL_PATH = "/v1/tasks/"
DEFAULT_MODEL = "happyhorse-1.0-r2v"
RETRY_AFTER_CAP = 60.0
_MAX_JSON_BYTES = 1 << 20
_WRITE_BUFFER = 1 << 20
_MAX_TEXT = 300
_SIGNATURE = re.compile(r"(Signature=)[^&\s]+", re.IGNORECASE)
_XML_CODE = re.compile(rb"<Code>\s*([\w.]+)\s*</Code>")


@dataclass(frozen=True)
class CreateRequest:
    prompt: str
    image_urls: tuple[str, ...]
    resolution: str
    duration: int
    ratio: str
    watermark: bool
    prompt_extend: bool | None = None
    seed: int | None = None


@dataclass(frozen=True)
class _Answer:
    status: int
    retry_after: str | None
    body: object
    raw: bytes


class _NotSent(Exception):
    """The connection never opened: the request certainly did not reach the server."""


class _Lost(Exception):
    """The request may have reached the server but no complete answer came back."""


class HappyHorseClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        api_key: str,
        model: str = DEFAULT_MODEL,
        clock: Clock | None = None,
        create_timeout: float = 30.0,
        poll_timeout: float = 15.0,
        download_timeout: float = 300.0,
    ) -> None:
        base = yarl.URL(base_url.rstrip("/"))
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError("base_url must be an http(s) URL")
        key = api_key.strip()
        if not key or any(c in key for c in "\r\n\t "):
            raise ValueError("api_key must be a non-empty token without whitespace")
        if "Authorization" in session.headers or session.auth is not None:
            raise ValueError("the session must not carry default credentials")
        self._session = session
        self._base = str(base)
        self._key = key
        self._model = model
        self._clock: Clock = clock or SystemClock()
        self._create_timeout = self._poll_timeout = self._download_timeout = aiohttp.ClientTimeout()
        self.set_timeouts(create=create_timeout, poll=poll_timeout, download=download_timeout)

    def __repr__(self) -> str:
        return f"HappyHorseClient(base_url={self._base!r}, model={self._model!r})"

    def set_timeouts(
        self,
        *,
        create: float | None = None,
        poll: float | None = None,
        download: float | None = None,
    ) -> None:
        """Change the per-request timeouts (real seconds) for requests made from now on.

        For operators tuning a slow gateway and for tests that compress time: a scaled clock
        speeds up every wait except these, which are aiohttp's.
        """
        if create is not None:
            self._create_timeout = aiohttp.ClientTimeout(
                total=create, sock_connect=min(create, 10.0)
            )
        if poll is not None:
            self._poll_timeout = aiohttp.ClientTimeout(total=poll)
        if download is not None:
            self._download_timeout = aiohttp.ClientTimeout(total=download)

    # -- create ---------------------------------------------------------------------------

    def create_body(self, req: CreateRequest) -> dict[str, Any]:
        """The exact JSON body ``create`` sends (always resolution and watermark)."""
        parameters: dict[str, Any] = {
            "resolution": req.resolution,
            "duration": req.duration,
            "ratio": req.ratio,
        }
        if req.prompt_extend is not None:
            parameters["prompt_extend"] = req.prompt_extend
        parameters["watermark"] = req.watermark
        if req.seed is not None:
            parameters["seed"] = req.seed
        media = [{"type": "reference_image", "url": url} for url in req.image_urls]
        return {
            "model": self._model,
            "input": {"prompt": req.prompt, "media": media},
            "parameters": parameters,
        }

    async def create(self, req: CreateRequest) -> str:
        """Submit one task and return its id; retries only what cannot have made a task.

        Raises ``RejectedInput``, ``ModerationBlocked``, ``AuthError``, ``OutOfBalance`` at once;
        ``Throttled`` or ``UpstreamError`` (``task_may_exist=False``) after four attempts
        (waits 1, 4, 16 s or the capped Retry-After); ``UnknownOutcome`` when a task may exist.
        """
        data = json.dumps(self.create_body(req), ensure_ascii=False).encode("utf-8")
        headers = {
            "Authorization": f"Bearer {self._key}",
            "Content-Type": "application/json",
            "X-DashScope-Async": "enable",
            "Accept-Encoding": "identity",
            "Accept": "application/json",
        }
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                answer = await self._send(
                    "POST", self._base + CREATE_PATH, headers, self._create_timeout, data
                )
            except _NotSent as exc:
                failure: ApiError = UpstreamError(f"could not reach the API: {exc}")
            except _Lost as exc:
                raise UnknownOutcome(
                    f"create sent but no answer came back ({exc}); a task may exist"
                ) from None
            else:
                if 200 <= answer.status < 300:
                    return self._task_id_from(answer)
                failure, retryable = self._create_failure(answer)
                if not retryable:
                    raise failure
                if isinstance(failure, Throttled):
                    retry_after = failure.retry_after
            delay = create_backoff(attempt)
            if delay is None:
                raise failure
            if retry_after is not None:
                delay = retry_after
            log.warning("create attempt %d failed (%s); retrying in %.1fs", attempt, failure, delay)
            await self._clock.sleep(delay)

    def _task_id_from(self, answer: _Answer) -> str:
        body = answer.body if isinstance(answer.body, Mapping) else {}
        output = body.get("output")
        task_id = output.get("task_id") if isinstance(output, Mapping) else None
        task_id = task_id if _is_id(task_id) else body.get("task_id")
        if not _is_id(task_id):
            raise UnknownOutcome(
                f"create answered HTTP {answer.status} without a task id; a task may exist",
                status=answer.status,
            )
        return str(task_id).strip()

    def _create_failure(self, answer: _Answer) -> tuple[ApiError, bool]:
        """The error for a non-2xx create answer, and whether repeating the create is safe."""
        status = answer.status
        text, code, message = self._refusal("create", answer)
        if status == 400 and _is_moderation(code, message):
            return ModerationBlocked(text, status=status, code=code), False
        if status in (400, 413, 422):
            return RejectedInput(text, status=status, code=code), False
        if status == 401:
            return AuthError(text, status=status, code=code), False
        if status == 403:
            if _is_moderation(code, message):
                return ModerationBlocked(text, status=status, code=code), False
            return AuthError(text, status=status, code=code), False
        if status == 429:
            balance_text = (message or "") + " " + (code or "")
            if code and code.casefold().startswith("throttl"):
                balance_text = message or ""
            if is_balance_message(balance_text):
                return OutOfBalance(text, status=status, code=code), False
            return self._throttled(text, code, answer), True
        if status >= 500:
            if status in (502, 504) or not isinstance(answer.body, Mapping):
                return UnknownOutcome(
                    text + " (a proxy error: a task may exist)", status=status, code=code
                ), False
            if (code or "").startswith("InvalidParameter") or "parse" in (message or "").lower():
                return RejectedInput(text, status=status, code=code), False
            return UpstreamError(text, status=status, code=code, task_may_exist=False), True
        return UpstreamError(text, status=status, code=code, task_may_exist=False), False

    # -- poll -----------------------------------------------------------------------------

    async def poll(self, task_id: str) -> TaskStatus:
        """Ask once for the task's status.

        Raises ``UpstreamError`` (network, timeout, 5xx, unreadable body), ``Throttled`` (429)
        or ``AuthError`` (401/403); all but ``AuthError`` are worth polling again later.
        An unknown or expired id returns a status with ``TaskState.EXPIRED``.
        """
        if not task_id.strip():
            raise ValueError("task_id must not be empty")
        url = self._base + POLL_PATH + quote(task_id, safe="")
        headers = {
            "Authorization": f"Bearer {self._key}",
            "Accept-Encoding": "identity",
            "Accept": "application/json",
        }
        try:
            answer = await self._send("GET", url, headers, self._poll_timeout, None)
        except (_NotSent, _Lost) as exc:
            raise UpstreamError(f"poll failed: {exc}", task_may_exist=True) from None
        status = answer.status
        if status in (401, 403) or status == 429 or status >= 500:
            text, code, _ = self._refusal("poll", answer)
            if status == 429:
                raise self._throttled(text, code, answer)
            if status >= 500:
                raise UpstreamError(text, status=status, code=code, task_may_exist=True)
            raise AuthError(text, status=status, code=code)
        if answer.body is None:
            raise UpstreamError(
                f"poll answered HTTP {status} with an unreadable body",
                status=status,
                task_may_exist=True,
            )
        return parse_task_status(task_id, status, answer.body)

    # -- download -------------------------------------------------------------------------

    async def download(
        self, url: str, dest: Path, *, max_bytes: int, chunk_size: int = 65536
    ) -> int:
        """Stream ``url`` into ``dest`` (via ``dest.part``) and return its size in bytes.

        Never sends credentials. Raises ``DownloadError`` for a refused/expired link (403/404),
        a body over ``max_bytes``, a truncated or empty body, or a network failure; no partial
        file is left behind.
        """
        target = yarl.URL(url)
        if target.scheme not in ("http", "https") or not target.host:
            raise DownloadError("the video URL is not an http(s) URL")
        part = dest.with_name(dest.name + ".part")
        try:
            size = await self._stream_to(target, part, max_bytes, chunk_size)
            part.replace(dest)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return size

    async def _stream_to(self, url: yarl.URL, part: Path, max_bytes: int, chunk: int) -> int:
        try:
            async with self._session.get(
                url,
                headers={"Accept-Encoding": "identity"},
                timeout=self._download_timeout,
                auto_decompress=False,
            ) as resp:
                if resp.status != 200:
                    excerpt = await resp.content.read(4096)
                    found = _XML_CODE.search(excerpt)
                    code = f" {found.group(1).decode()}" if found else ""
                    raise DownloadError(
                        f"the video link was refused (HTTP {resp.status}{code}); "
                        "it may have expired",
                        status=resp.status,
                    )
                declared = resp.content_length
                if declared is not None and declared > max_bytes:
                    raise DownloadError(f"the video is too large ({declared} > {max_bytes} bytes)")
                written = await _write_stream(resp.content, part, max_bytes, chunk)
        except aiohttp.ClientPayloadError as exc:
            raise DownloadError(f"the video download was cut short ({exc})") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DownloadError(f"the video download failed ({self._describe(exc)})") from None
        if declared is not None and written != declared:
            raise DownloadError(f"the video download was cut short ({written}/{declared} bytes)")
        if written == 0:
            raise DownloadError("the video download was empty")
        return written

    # -- plumbing -------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        limits: aiohttp.ClientTimeout,
        data: bytes | None,
    ) -> _Answer:
        try:
            async with self._session.request(
                method,
                url,
                headers=dict(headers),
                data=data,
                timeout=limits,
                allow_redirects=False,
                auto_decompress=False,
            ) as resp:
                raw = await _read_limited(resp.content, _MAX_JSON_BYTES)
                return _Answer(resp.status, resp.headers.get("Retry-After"), _decode(raw), raw)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise _NotSent(self._describe(exc)) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _Lost(self._describe(exc)) from None

    def _refusal(self, what: str, answer: _Answer) -> tuple[str, str | None, str | None]:
        """(scrubbed error text, code, message) for a non-2xx answer."""
        code, message = self._error_info(answer)
        text = f"{what} refused: HTTP {answer.status}" + (f" {code}" if code else "")
        return text + (f": {message}" if message else ""), code, message

    def _throttled(self, text: str, code: str | None, answer: _Answer) -> Throttled:
        wait = parse_retry_after(answer.retry_after, cap=RETRY_AFTER_CAP, now=self._clock.now())
        return Throttled(text, retry_after=wait, code=code or "Throttling")

    def _error_info(self, answer: _Answer) -> tuple[str | None, str | None]:
        body = answer.body
        code: object = None
        message: object = None
        if isinstance(body, Mapping):
            code, message = body.get("code"), body.get("message")
            error = body.get("error")
            if isinstance(error, Mapping):
                code = code or error.get("code") or error.get("type")
                message = message or error.get("message")
            elif isinstance(error, str):
                message = message or error
        elif answer.raw:
            message = answer.raw[:200].decode("utf-8", "replace").strip()
        return (
            self._scrub(str(code)) if code not in (None, "") else None,
            self._scrub(str(message)) if message not in (None, "") else None,
        )

    def _describe(self, exc: BaseException) -> str:
        detail = str(exc)
        return self._scrub(f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)

    def _scrub(self, text: str) -> str:
        text = _SIGNATURE.sub(r"\1***", text.replace(self._key, "***"))
        return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _is_id(value: object) -> bool:
    return (isinstance(value, str) and bool(value.strip())) or (
        isinstance(value, int) and not isinstance(value, bool)
    )


def _is_moderation(code: str | None, message: str | None) -> bool:
    text = f"{code or ''} {message or ''}".casefold()
    return any(m in text for m in ("datainspection", "inappropriate", "moderation"))


async def _read_limited(stream: aiohttp.StreamReader, limit: int) -> bytes:
    buf = bytearray()
    async for chunk in stream.iter_chunked(65536):
        buf += chunk
        if len(buf) > limit:
            break
    return bytes(buf)


def _decode(raw: bytes) -> object:
    """JSON from a body that may be plain even when labelled gzip, or gzip despite identity."""
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, _MAX_JSON_BYTES)
        except zlib.error:
            return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


async def _write_stream(
    stream: aiohttp.StreamReader, part: Path, max_bytes: int, chunk_size: int
) -> int:
    written = 0
    buf = bytearray()
    handle: IO[bytes] = await asyncio.to_thread(part.open, "wb")
    try:
        async for chunk in stream.iter_chunked(chunk_size):
            written += len(chunk)
            if written > max_bytes:
                raise DownloadError(f"the video is too large (over {max_bytes} bytes)")
            buf += chunk
            if len(buf) >= _WRITE_BUFFER:
                await asyncio.to_thread(handle.write, bytes(buf))
                buf.clear()
        if buf:
            await asyncio.to_thread(handle.write, bytes(buf))
    finally:
        await asyncio.to_thread(handle.close)
    return written
