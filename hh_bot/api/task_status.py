"""Reading a poll answer: every response shape the HappyHorse/APIYI contract lists, one result.

Shapes (detected in this order): an error body saying ``task_not_exist``; the gateway envelope
(``code: "success"`` + ``data.status``); DashScope native (``output.task_status``); OpenAI-style
(``object: "video"``); APIYI flat (top-level ``status``). Status words match case-insensitively,
an unrecognised status word counts as still running, a success without a usable URL is a failure
and ``unknown``/``UNKNOWN``/``task_not_exist`` mean the task id expired or never existed.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hh_bot.errors import UpstreamError


class TaskState(enum.Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"


@dataclass(frozen=True)
class TaskStatus:
    task_id: str
    state: TaskState
    progress: int
    raw_status: str
    video_url: str | None = None
    error_code: str | None = None
    error_message: str | None = None


_SUCCEEDED = frozenset({"completed", "complete", "succeeded", "success", "succeed", "done"})
_FAILED = frozenset({"failed", "failure", "fail", "error", "canceled", "cancelled"})
_EXPIRED = frozenset({"unknown", "expired", "task_not_exist", "not_found"})
_NOT_EXIST = "task_not_exist"
_BRACKET_CODE = re.compile(r"^\s*\[([A-Za-z][\w.]*)\]")
_MAX_TEXT = 500


def parse_task_status(task_id: str, status_code: int, body: object) -> TaskStatus:
    """Turn one poll answer (HTTP status + decoded JSON) into a ``TaskStatus``.

    Raises ``UpstreamError`` when the answer is no recognisable task status (wrong type, no
    known shape, or an HTTP error other than ``task_not_exist``): the caller may poll again.
    """
    if isinstance(body, Mapping) and _says_not_exist(body):
        return TaskStatus(task_id, TaskState.EXPIRED, 0, _NOT_EXIST)
    if not 200 <= status_code < 300 or not isinstance(body, Mapping):
        raise UpstreamError(
            f"unrecognised task status response (HTTP {status_code})",
            status=status_code,
            task_may_exist=True,
        )
    data = body.get("data")
    output = body.get("output")
    if _lower(body.get("code")) == "success" and isinstance(data, Mapping) and "status" in data:
        return _gateway(task_id, data)
    if isinstance(output, Mapping) and "task_status" in output:
        return _dashscope(task_id, output)
    if _lower(body.get("object")) == "video" and "status" in body:
        return _openai(task_id, body)
    if isinstance(body.get("status"), str):
        return _flat(task_id, body)
    raise UpstreamError(
        f"unrecognised task status response (HTTP {status_code})",
        status=status_code,
        task_may_exist=True,
    )


def _gateway(task_id: str, data: Mapping[str, Any]) -> TaskStatus:
    url = _str(data.get("result_url")) or _str(_path(data, "data", "output", "video_url"))
    code = _str(_path(data, "data", "output", "code"))
    message = _str(data.get("fail_reason")) or _str(_path(data, "data", "output", "message"))
    return _build(task_id, data.get("status"), data.get("progress"), url, code, message)


def _dashscope(task_id: str, output: Mapping[str, Any]) -> TaskStatus:
    return _build(
        task_id,
        output.get("task_status"),
        output.get("progress"),
        _str(output.get("video_url")),
        _str(output.get("code")),
        _str(output.get("message")),
    )


def _openai(task_id: str, body: Mapping[str, Any]) -> TaskStatus:
    url = _str(_path(body, "metadata", "url")) or _str(body.get("video_url"))
    code, message = _error_fields(body)
    return _build(task_id, body.get("status"), body.get("progress"), url, code, message)


def _flat(task_id: str, body: Mapping[str, Any]) -> TaskStatus:
    url = _str(body.get("result_url")) or _str(body.get("video_url"))
    code, message = _error_fields(body)
    message = message or _str(body.get("fail_reason"))
    return _build(task_id, body.get("status"), body.get("progress"), url, code, message)


def _build(
    task_id: str,
    status: object,
    progress: object,
    url: str | None,
    code: str | None,
    message: str | None,
) -> TaskStatus:
    raw = status if isinstance(status, str) else ("" if status is None else str(status))
    word = raw.strip().casefold().replace("-", "_").replace(" ", "_")
    state = TaskState.RUNNING
    if word in _SUCCEEDED:
        state = TaskState.SUCCEEDED
    elif word in _FAILED:
        state = TaskState.FAILED
    elif word in _EXPIRED:
        state = TaskState.EXPIRED
    pct = _progress(progress)
    if state is TaskState.EXPIRED:
        return TaskStatus(task_id, state, pct or 0, raw)
    if state is TaskState.SUCCEEDED:
        if url is None or not url.startswith(("https://", "http://")):
            return TaskStatus(
                task_id,
                TaskState.FAILED,
                100,
                raw,
                error_code="NoVideoUrl",
                error_message="the task succeeded but returned no video URL",
            )
        return TaskStatus(task_id, state, 100, raw, video_url=url)
    if state is TaskState.FAILED:
        message = _clip(message)
        if code is None and message is not None:
            match = _BRACKET_CODE.match(message)
            code = match.group(1) if match else None
        return TaskStatus(
            task_id, state, 100 if pct is None else pct, raw, error_code=code, error_message=message
        )
    return TaskStatus(task_id, state, min(pct or 0, 99), raw)


def _says_not_exist(body: Mapping[str, Any]) -> bool:
    error = body.get("error")
    candidates = [body.get("code"), body.get("message")]
    if isinstance(error, Mapping):
        candidates += [error.get("code"), error.get("message"), error.get("type")]
    else:
        candidates.append(error)
    return any(_lower(c) == _NOT_EXIST for c in candidates)


def _error_fields(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    error = body.get("error")
    if isinstance(error, Mapping):
        return _str(error.get("code")), _str(error.get("message"))
    return None, _str(error)


def _progress(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    number: float
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().removesuffix("%").strip())
        except ValueError:
            return None
    else:
        return None
    if number != number:  # NaN
        return None
    return int(min(max(number, 0.0), 100.0))


def _path(obj: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _str(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _lower(value: object) -> str | None:
    return value.strip().casefold() if isinstance(value, str) else None


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= _MAX_TEXT:
        return text
    return text[: _MAX_TEXT - 1] + "…"
