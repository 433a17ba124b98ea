"""The HappyHorse (via APIYI) client: create a task, poll it once, download the result.

Errors are the typed classes of ``hh_bot.errors``. Money rule for ``create``: a request is
repeated only when it certainly never reached the API — a connection that never opened (refused,
DNS failure) or an answer saying nothing was made (a 429 rate limit; a 429 about balance or
quota is never repeated). Anything that may have created a task — a timeout or reset after
sending, any 5xx (a gateway answers a JSON 500 when its upstream call timed out *after*
sending), a 2xx without a task id — raises ``UnknownOutcome`` and is never repeated.

Timeouts are real seconds (aiohttp's), all waits between retries go through the clock; a stall
becomes a fault in seconds (create and poll: a total; download: the longest silence between two
reads). The API key only ever travels in the create/poll ``Authorization`` header, and only to
an https base URL (http only for a loopback one, see ``result_link``): it is scrubbed from
every error text and never sent to the download host. Result links are fetched under the
public-address rules of ``hh_bot.api.result_link``, redirects refused, the type checked.
Reading an answer and choosing its typed error is ``hh_bot.api.answers``'s part.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import aiohttp
import yarl

from hh_bot.api.answers import (
    Answer,
    AnswerReader,
    download_refusal,
    read_answer,
    task_id_from,
)
from hh_bot.api.result_link import VIDEO_TYPES, LinkRules, base_url_problem
from hh_bot.api.retry import create_backoff
from hh_bot.api.task_status import TaskState, TaskStatus, parse_task_status
from hh_bot.clock import Clock, SystemClock
from hh_bot.errors import (
    ApiError,
    DownloadError,
    Throttled,
    UnknownOutcome,
    UnsafeLink,
    UpstreamError,
)
from hh_bot.references.netpolicy import PolicyViolation

__all__ = ["CREATE_PATH", "CreateRequest", "HappyHorseClient", "TaskState", "TaskStatus"]

log = logging.getLogger(__name__)

CREATE_PATH = "/wan/api/v1/services/aigc/video-generation/video-synthesis"
POLL_PATH = "/v1/tasks/"
DEFAULT_MODEL = "happyhorse-1.0-r2v"
_WRITE_BUFFER = 1 << 20
DOWNLOAD_TOTAL_FACTOR = 30  # a download may last this many times its stall timeout in all


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
        download_timeout: float = 30.0,
        download_session: aiohttp.ClientSession | None = None,
        link_rules: LinkRules | None = None,
    ) -> None:
        """``download_session``: the session result links are fetched with (default
        ``session``); production passes ``result_link.download_session``, whose resolver applies
        ``link_rules`` (default: from ``base_url``) to the address actually connected to."""
        base = yarl.URL(base_url.rstrip("/"))
        problem = base_url_problem(str(base))
        if problem is not None:
            raise ValueError(f"base_url {problem}")
        key = api_key.strip()
        if not key or any(c in key for c in "\r\n\t "):
            raise ValueError("api_key must be a non-empty token without whitespace")
        if "Authorization" in session.headers or session.auth is not None:
            raise ValueError("the session must not carry default credentials")
        self._session = session
        self._downloads = download_session or session
        if "Authorization" in self._downloads.headers or self._downloads.auth is not None:
            raise ValueError("the download session must not carry default credentials")
        self._links = link_rules or LinkRules.for_base(str(base))
        self._base = str(base)
        self._key = key
        self._model = model
        self._clock: Clock = clock or SystemClock()
        self._answers = AnswerReader(key, self._clock)
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
        if download is not None:  # the longest silence; the whole transfer may take 30× that
            self._download_timeout = aiohttp.ClientTimeout(
                total=download * DOWNLOAD_TOTAL_FACTOR,
                sock_connect=min(download, 10.0),
                sock_read=download,
            )

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
                    return task_id_from(answer)
                failure, retryable = self._answers.create_failure(answer)
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
        failure = self._answers.poll_failure(answer)
        if failure is not None:
            raise failure
        if answer.body is None:
            raise UpstreamError(
                f"poll answered HTTP {answer.status} with an unreadable body",
                status=answer.status,
                task_may_exist=True,
            )
        return parse_task_status(task_id, answer.status, answer.body)

    # -- download -------------------------------------------------------------------------

    async def download(
        self, url: str, dest: Path, *, max_bytes: int, chunk_size: int = 65536
    ) -> int:
        """Stream ``url`` into ``dest`` (via ``dest.part``) and return its size in bytes.

        Never sends credentials and never follows a redirect. Raises ``UnsafeLink`` for a link
        the public-address rules refuse (before any connection to it), ``DownloadError`` for a
        refused/expired link (403/404), a body that is not a video, over ``max_bytes``,
        truncated or empty, or a network failure or stall; no partial file is left behind.
        """
        try:
            target = yarl.URL(url)
        except (ValueError, TypeError):
            raise UnsafeLink("the video link is not a valid URL") from None
        await self._links.check(target)
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
            async with self._downloads.get(
                url,
                headers={"Accept-Encoding": "identity"},
                timeout=self._download_timeout,
                allow_redirects=False,
                auto_decompress=False,
            ) as resp:
                if 300 <= resp.status < 400:
                    raise UnsafeLink(f"the video link redirects (HTTP {resp.status}); not followed")
                if resp.status != 200:
                    raise download_refusal(resp.status, await resp.content.read(4096))
                if resp.content_type not in VIDEO_TYPES:
                    kind = resp.content_type[:60]
                    raise DownloadError(f"the video link served {kind}, not a video", status=200)
                declared = resp.content_length
                if declared is not None and declared > max_bytes:
                    raise DownloadError(f"the video is too large ({declared} > {max_bytes} bytes)")
                written = await _write_stream(resp.content, part, max_bytes, chunk)
        except aiohttp.ClientPayloadError as exc:
            raise DownloadError(f"the video download was cut short ({exc})") from None
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, PolicyViolation):
                raise UnsafeLink(exc.os_error.reason) from None
            raise DownloadError(
                f"the video download failed ({self._answers.describe(exc)})"
            ) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DownloadError(
                f"the video download failed ({self._answers.describe(exc)})"
            ) from None
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
    ) -> Answer:
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
                return await read_answer(resp)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise _NotSent(self._answers.describe(exc)) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _Lost(self._answers.describe(exc)) from None


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
