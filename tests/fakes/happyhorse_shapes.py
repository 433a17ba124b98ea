"""Bodies the fake HappyHorse server speaks: create validation, error bodies, poll shapes.

Pure functions, one per contract table row, so ``happyhorse.py`` stays about the server.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MODELS = frozenset({"happyhorse-1.0-r2v", "happyhorse-1.1-r2v"})
RESOLUTIONS = frozenset({"720P", "1080P"})
RATIOS = frozenset({"16:9", "9:16", "1:1", "4:3", "3:4"})
POLL_SHAPES = ("apiyi", "dashscope", "gateway", "openai")
MAX_SEED = 2147483647

Body = dict[str, Any]


@dataclass(frozen=True)
class TaskView:
    """What a poll reveals about a task at one instant."""

    task_id: str
    phase: str  # submitted | in_progress | completed | failed | unknown
    progress: int
    result_url: str | None = None
    fail_code: str = ""
    fail_message: str = ""


def request_id() -> str:
    return str(uuid.uuid4())


def dashscope_error(code: str, message: str) -> Body:
    return {"code": code, "message": message, "request_id": request_id()}


def openai_error(message: str, *, type_: str, code: str) -> Body:
    return {"error": {"message": message, "type": type_, "code": code}}


def auth_error(message: str) -> Body:
    return openai_error(message, type_="invalid_request_error", code="invalid_api_key")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_create(body: object) -> tuple[int, Body] | None:
    """The (status, error body) a create body earns, or None when it is valid."""

    def bad(message: str) -> tuple[int, Body]:
        return 400, dashscope_error("InvalidParameter", message)

    if not isinstance(body, dict):
        return bad("Failed to parse the request body as a JSON object")
    params = body.get("parameters", {})
    if not isinstance(params, dict):
        return bad("parameters must be an object")
    if "duration" in params and not _is_int(params["duration"]):
        # DashScope deserialises into a typed struct: a string duration fails the parse.
        return bad("Failed to parse the request body: parameters.duration must be an integer")
    if body.get("model") not in MODELS:
        return bad("Model not exist.")
    inp = body.get("input")
    if not isinstance(inp, dict):
        return bad("Field required: input")
    prompt = inp.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return bad("Field required: input.prompt")
    if len(prompt) > 5000:
        return bad("input.prompt exceeds 5000 characters")
    media = inp.get("media")
    if not isinstance(media, list) or not 1 <= len(media) <= 9:
        return bad("input.media must hold 1 to 9 items")
    for i, item in enumerate(media, 1):
        if not isinstance(item, dict) or item.get("type") != "reference_image":
            return bad(f"input.media[{i}].type must be reference_image")
        url = item.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            return bad(f"input.media[{i}].url must be an http(s) URL")
    if "duration" in params and not 3 <= params["duration"] <= 15:
        return bad("parameters.duration must be between 3 and 15")
    if "resolution" in params and params["resolution"] not in RESOLUTIONS:
        return bad("parameters.resolution must be 720P or 1080P")
    if "ratio" in params and params["ratio"] not in RATIOS:
        return bad("parameters.ratio is not supported")
    if "seed" in params and not (_is_int(params["seed"]) and 0 <= params["seed"] <= MAX_SEED):
        return bad("parameters.seed must be an integer in [0, 2147483647]")
    for flag in ("watermark", "prompt_extend"):
        if flag in params and not isinstance(params[flag], bool):
            return bad(f"parameters.{flag} must be a boolean")
    return None


def create_body(task_id: str, shape: str) -> Body:
    """Create success: DashScope's ``output.task_id`` or, with shape "flat", a top-level id."""
    if shape == "flat":
        return {"task_id": task_id, "status": "submitted"}
    return {"output": {"task_id": task_id, "task_status": "PENDING"}, "request_id": request_id()}


_WORDS = {
    "apiyi": {
        "submitted": "submitted",
        "in_progress": "in_progress",
        "completed": "completed",
        "failed": "failed",
    },
    "dashscope": {
        "submitted": "PENDING",
        "in_progress": "RUNNING",
        "completed": "SUCCEEDED",
        "failed": "FAILED",
    },
    "gateway": {
        "submitted": "SUBMITTED",
        "in_progress": "IN_PROGRESS",
        "completed": "SUCCESS",
        "failed": "FAILURE",
    },
    "openai": {
        "submitted": "queued",
        "in_progress": "in_progress",
        "completed": "completed",
        "failed": "failed",
    },
}


def poll_body(shape: str, task_id: str, view: TaskView | None) -> tuple[int, Body]:
    """(status, body) of a poll in ``shape``; ``view`` None means the id never existed."""
    if shape not in POLL_SHAPES:
        raise ValueError(f"unknown poll shape {shape!r}")
    if view is None or view.phase == "unknown":
        return _unknown(shape, task_id, expired=view is not None)
    word = _WORDS[shape][view.phase]
    reason = f"[{view.fail_code}] {view.fail_message}"
    failed = view.phase == "failed"
    if shape == "dashscope":
        output: Body = {"task_id": task_id, "task_status": word}
        if view.result_url:
            output["video_url"] = view.result_url
        if failed:
            output.update(code=view.fail_code, message=view.fail_message)
        return 200, {"request_id": request_id(), "output": output}
    if shape == "gateway":
        raw: Body = {"output": {"task_id": task_id, "task_status": _WORDS["dashscope"][view.phase]}}
        data: Body = {
            "task_id": task_id,
            "status": word,
            "progress": f"{view.progress}%",
            "fail_reason": reason if failed else "",
            "data": raw,
        }
        if view.result_url:
            data["result_url"] = view.result_url
            raw["output"]["video_url"] = view.result_url
        return 200, {"code": "success", "message": "", "data": data}
    if shape == "openai":
        body: Body = {"id": task_id, "object": "video", "status": word, "progress": view.progress}
        if view.result_url:
            body["metadata"] = {"url": view.result_url}
        if failed:
            body["error"] = {"code": view.fail_code, "message": view.fail_message}
        return 200, body
    flat: Body = {"task_id": task_id, "status": word, "progress": view.progress}
    if view.result_url:
        flat["result_url"] = view.result_url
    if failed:
        flat["error"] = {"code": view.fail_code, "message": reason}
        flat["fail_reason"] = reason
    return 200, flat


def _unknown(shape: str, task_id: str, *, expired: bool) -> tuple[int, Body]:
    """Both documented variants: ``status: unknown`` with 200, or 400/404 ``task_not_exist``."""
    if shape == "dashscope":
        output = {"task_id": task_id, "task_status": "UNKNOWN"}
        return 200, {"request_id": request_id(), "output": output}
    if shape == "gateway":
        if expired:
            data = {"task_id": task_id, "status": "UNKNOWN", "progress": "0%"}
            return 200, {"code": "success", "message": "", "data": data}
        return 400, {"code": "task_not_exist", "message": "task_not_exist", "data": None}
    if shape == "apiyi" and expired:
        return 200, {"task_id": task_id, "status": "unknown", "progress": 0}
    return 404, openai_error("task_not_exist", type_="invalid_request_error", code="task_not_exist")
