from __future__ import annotations

from typing import Any

import pytest

from hh_bot.api.task_status import TaskState, TaskStatus, parse_task_status
from hh_bot.errors import UpstreamError

URL = "https://cdn.example.com/v.mp4?Expires=1&Signature=abc"
R, S, F, E = TaskState.RUNNING, TaskState.SUCCEEDED, TaskState.FAILED, TaskState.EXPIRED


def _gw(data: dict[str, Any]) -> dict[str, Any]:
    return {"code": "success", "message": "", "data": data}


def _ds(output: dict[str, Any]) -> dict[str, Any]:
    return {"request_id": "r", "output": {"task_id": "t", **output}}


# (body, status_code, state, progress, video_url, error_code, error_message)
CASES: list[tuple[str, object, int, TaskState, int, str | None, str | None, str | None]] = [
    # APIYI flat
    ("flat submitted", {"status": "submitted", "progress": 0}, 200, R, 0, None, None, None),
    ("flat running", {"status": "in_progress", "progress": 30}, 200, R, 30, None, None, None),
    ("flat upper", {"status": "IN_PROGRESS", "progress": "10"}, 200, R, 10, None, None, None),
    ("flat pct", {"status": "in_progress", "progress": "30%"}, 200, R, 30, None, None, None),
    ("flat odd", {"status": "warming_up", "progress": "x"}, 200, R, 0, None, None, None),
    ("flat 100 running", {"status": "in_progress", "progress": 100}, 200, R, 99, None, None, None),
    (
        "flat done",
        {"status": "completed", "progress": 100, "result_url": URL},
        200,
        S,
        100,
        URL,
        None,
        None,
    ),
    (
        "flat done no url",
        {"status": "completed", "progress": 100},
        200,
        F,
        100,
        None,
        "NoVideoUrl",
        "the task succeeded but returned no video URL",
    ),
    (
        "flat done bad url",
        {"status": "Completed", "result_url": "ftp://x/y.mp4"},
        200,
        F,
        100,
        None,
        "NoVideoUrl",
        "the task succeeded but returned no video URL",
    ),
    (
        "flat failed error obj",
        {
            "status": "failed",
            "progress": 100,
            "error": {"code": "InvalidParameter", "message": "[InvalidParameter] image too small"},
            "fail_reason": "[InvalidParameter] image too small",
        },
        200,
        F,
        100,
        None,
        "InvalidParameter",
        "[InvalidParameter] image too small",
    ),
    (
        "flat failed error str",
        {"status": "failed", "error": "[DataInspectionFailed] blocked"},
        200,
        F,
        100,
        None,
        "DataInspectionFailed",
        "[DataInspectionFailed] blocked",
    ),
    (
        "flat failed reason only",
        {"status": "FAILED", "progress": "100%", "fail_reason": "boom"},
        200,
        F,
        100,
        None,
        None,
        "boom",
    ),
    ("flat unknown", {"status": "unknown", "progress": 0}, 200, E, 0, None, None, None),
    # DashScope native
    ("ds pending", _ds({"task_status": "PENDING"}), 200, R, 0, None, None, None),
    ("ds running", _ds({"task_status": "RUNNING"}), 200, R, 0, None, None, None),
    ("ds done", _ds({"task_status": "SUCCEEDED", "video_url": URL}), 200, S, 100, URL, None, None),
    (
        "ds failed",
        _ds({"task_status": "FAILED", "code": "InternalError", "message": "oops"}),
        200,
        F,
        100,
        None,
        "InternalError",
        "oops",
    ),
    ("ds canceled", _ds({"task_status": "CANCELED"}), 200, F, 100, None, None, None),
    ("ds unknown", _ds({"task_status": "UNKNOWN"}), 200, E, 0, None, None, None),
    # gateway envelope
    ("gw start", _gw({"status": "NOT_START", "progress": "0%"}), 200, R, 0, None, None, None),
    ("gw queued", _gw({"status": "QUEUED", "progress": ""}), 200, R, 0, None, None, None),
    ("gw running", _gw({"status": "IN_PROGRESS", "progress": "30%"}), 200, R, 30, None, None, None),
    (
        "gw done",
        _gw({"status": "SUCCESS", "progress": "100%", "result_url": URL}),
        200,
        S,
        100,
        URL,
        None,
        None,
    ),
    (
        "gw done nested url",
        _gw({"status": "SUCCESS", "data": {"output": {"video_url": URL}}}),
        200,
        S,
        100,
        URL,
        None,
        None,
    ),
    (
        "gw failed",
        _gw({"status": "FAILURE", "fail_reason": "[InvalidImageUrl] cannot fetch"}),
        200,
        F,
        100,
        None,
        "InvalidImageUrl",
        "[InvalidImageUrl] cannot fetch",
    ),
    ("gw unknown", _gw({"status": "UNKNOWN"}), 200, E, 0, None, None, None),
    # OpenAI-style
    ("oa queued", {"object": "video", "status": "queued"}, 200, R, 0, None, None, None),
    (
        "oa running",
        {"object": "video", "status": "in_progress", "progress": 10},
        200,
        R,
        10,
        None,
        None,
        None,
    ),
    (
        "oa done meta",
        {"object": "video", "status": "completed", "metadata": {"url": URL}},
        200,
        S,
        100,
        URL,
        None,
        None,
    ),
    (
        "oa done top",
        {"object": "video", "status": "completed", "video_url": URL},
        200,
        S,
        100,
        URL,
        None,
        None,
    ),
    (
        "oa failed",
        {"object": "video", "status": "failed", "error": {"code": "X", "message": "bad"}},
        200,
        F,
        100,
        None,
        "X",
        "bad",
    ),
    # unknown / expired ids
    (
        "404 not exist",
        {"error": {"code": "task_not_exist", "message": "task_not_exist"}},
        404,
        E,
        0,
        None,
        None,
        None,
    ),
    (
        "400 gw not exist",
        {"code": "task_not_exist", "message": "task_not_exist", "data": None},
        400,
        E,
        0,
        None,
        None,
        None,
    ),
    ("200 not exist", {"code": "TASK_NOT_EXIST"}, 200, E, 0, None, None, None),
]


@pytest.mark.parametrize(
    ("body", "code", "state", "progress", "url", "err_code", "err_msg"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_parse_task_status(
    body: object,
    code: int,
    state: TaskState,
    progress: int,
    url: str | None,
    err_code: str | None,
    err_msg: str | None,
) -> None:
    status = parse_task_status("t", code, body)
    assert status.task_id == "t"
    assert status.state is state
    assert status.progress == progress
    assert status.video_url == url
    assert status.error_code == err_code
    assert status.error_message == err_msg


def test_raw_status_is_kept_verbatim() -> None:
    status = parse_task_status("t", 200, _gw({"status": "IN_PROGRESS", "progress": "30%"}))
    assert status == TaskStatus("t", TaskState.RUNNING, 30, "IN_PROGRESS")


def test_long_failure_message_is_clipped() -> None:
    status = parse_task_status("t", 200, {"status": "failed", "fail_reason": "x" * 5000})
    assert status.error_message is not None and len(status.error_message) <= 500


@pytest.mark.parametrize(
    ("code", "body"),
    [
        (200, {}),
        (200, []),
        (200, "completed"),
        (200, None),
        (200, {"status": 3}),
        (200, {"code": "success", "data": None}),
        (404, {"error": {"code": "not_found", "message": "no route"}}),
        (400, {"code": "InvalidParameter", "message": "bad id"}),
        (500, {"status": "completed", "result_url": URL}),
    ],
)
def test_unrecognised_answers_raise_upstream_error(code: int, body: object) -> None:
    with pytest.raises(UpstreamError) as info:
        parse_task_status("t", code, body)
    assert info.value.status == code
    assert info.value.task_may_exist is True
