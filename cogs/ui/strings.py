"""Every user-facing string of the bot, in one place, and the error → message map."""

from __future__ import annotations

from hh_bot.errors import (
    AuthError,
    BadInput,
    BadReference,
    DownloadError,
    HHError,
    JobCanceled,
    ModerationBlocked,
    NotAllowed,
    OutOfBalance,
    QuotaExceeded,
    RejectedInput,
    TaskExpired,
    TaskFailed,
    Throttled,
    UnknownOutcome,
    UpstreamError,
)
from hh_bot.jobs.model import JobState

# -- command and option descriptions (≤ 100 characters each) ---------------------------------
VIDEO_DESC = "Make a short video from a prompt and 1–9 reference images"
PROMPT_DESC = "What happens in the video; refer to images as character1, character2, …"
IMAGE_DESC = "A reference image (JPEG, PNG or WEBP, short side ≥ 400 px, ≤ 10 MB)"
URLS_DESC = "Links to reference images (https), separated by spaces or new lines"
RESOLUTION_DESC = "Video resolution"
DURATION_DESC = "Length in seconds (2–15)"
RATIO_DESC = "Aspect ratio"
SEED_DESC = "Random seed for repeatable results (0–2147483647)"
WATERMARK_DESC = "Add the provider's watermark"
PROMPT_EXTEND_DESC = "Let the model enrich your prompt"
MAKE_VIDEO_MENU = "Make video"
MODAL_TITLE = "Make a video from this message"
MODAL_PROMPT = "Prompt"
MODAL_PROMPT_HINT = "character1 walks through a sunset garden"
MODAL_RESOLUTION = "Resolution (720P or 1080P)"
MODAL_DURATION = "Duration in seconds (2–15)"
MODAL_RATIO = "Aspect ratio (16:9, 9:16, 1:1, 4:3, 3:4)"
MODAL_SEED = "Seed (optional)"
QUOTA_DESC = "Your video allowance: used, left, and when it resets"
JOBS_DESC = "Your recent video jobs"
ADMIN_DESC = "Manage the video bot on this server"

# -- progress --------------------------------------------------------------------------------
STATE_LABEL = {
    JobState.QUEUED: "⏳ Queued",
    JobState.SUBMITTING: "📨 Submitting",
    JobState.RUNNING: "🎬 Generating",
    JobState.DOWNLOADING: "📥 Fetching the video",
    JobState.DELIVERING: "📤 Uploading",
    JobState.DONE: "✅ Done",
    JobState.FAILED: "❌ Failed",
    JobState.CANCELED: "🚫 Canceled",
    JobState.EXPIRED: "⌛ Timed out",
}
STARTED_PRIVATE = "Job `{job_id}` accepted ({cost} reserved). Follow it in the reply below."
PROGRESS_TITLE = "Video job {job_id}"
QUEUE_POSITION = "Position in queue: **{position}**"
ETA = "Expected {relative}"
STARTED = "Started {relative}"
FIELD_PROMPT = "Prompt"
FIELD_SETTINGS = "Settings"
FIELD_REFERENCES = "References"
MORE_REFERENCES = "+{count} more"
FIELD_COST = "Cost"
SETTINGS_LINE = "{resolution} · {duration}s · {ratio} · seed {seed} · watermark {watermark}"
FOOTER = "job {job_id}"

# -- results ---------------------------------------------------------------------------------
READY = "<@{user_id}> your video is ready."
READY_LINK = (
    "<@{user_id}> your video is ready, but at {size} it is too large to upload here. "
    "Download it: {url} (the link expires {expires})."
)
READY_LINK_UNKNOWN_SIZE = "<@{user_id}> your video is ready: {url} (the link expires {expires})."
READY_FITTED = (
    "<@{user_id}> your video is ready. At {size} the original is too large to upload here, "
    "so this is a smaller copy; the original: {url} (the link expires {expires})."
)
FAILED_FOR = "<@{user_id}> your video job {job_id} did not finish: {reason}"
NOTHING_CHARGED = "Nothing was charged."

# -- buttons ---------------------------------------------------------------------------------
CANCEL = "Cancel"
DELETE = "Delete"
NOT_YOURS = "Only the person who started this job, or a server admin, can do that."
NOT_THIS_SERVER = "That job belongs to another server; it can only be managed there."
BUTTON_FAILED = "Something went wrong on my side; please try again in a moment."
DISCORD_UNREACHABLE = "Discord didn't answer me in time. Nothing was charged; please try again."
CANCELED_OK = "Canceled job {job_id}; nothing was charged."
CANNOT_CANCEL = (
    "Job {job_id} has already been sent to the video service, which cannot stop it. "
    "It will finish on its own."
)
DELETED_OK = "Deleted."
JOB_GONE = "That job no longer exists."

# -- errors ----------------------------------------------------------------------------------
BAD_INPUT = {
    "empty_prompt": "Please write a prompt: it can't be empty.",
    "long_prompt": "The prompt is too long: at most 5000 characters.",
    "long_prompt_cjk": "The prompt is too long: Chinese, Japanese and Korean characters count "
    "double, so at most 2500 of them (or 5000 characters of other text, counted together).",
    "bad_resolution": "Resolution must be 720P or 1080P.",
    "bad_duration": "Duration must be a whole number of seconds from 2 to 15.",
    "bad_ratio": "Aspect ratio must be one of 16:9, 9:16, 1:1, 4:3, 3:4.",
    "bad_seed": "Seed must be a whole number from 0 to 2147483647.",
    "no_images": "Add at least one reference image (attach it or paste an https link).",
    "no_message_images": "That message has no images I can use as references.",
    "too_many_images": "Too many reference images: at most 9 in total, attachments and links "
    "together.",
}
NOT_ALLOWED = {
    "dm": "Videos can only be made in a server, not in direct messages.",
    "banned": "You are not allowed to make videos on this server.",
    "channel": "Videos can't be made in this channel. Ask an admin where the bot is allowed.",
}
QUOTA = {
    "banned": NOT_ALLOWED["banned"],
    "too_many_jobs": "You already have as many jobs running and queued as allowed. "
    "Wait for one to finish.",
    "cooldown": "Please wait a moment between videos: you can start the next one {resets}.",
    "user_day": "You have used your daily video allowance. It resets {resets}.",
    "user_month": "You have used your monthly video allowance. It resets {resets}.",
    "guild_day": "This server has used its daily video allowance. It resets {resets}.",
    "guild_month": "This server has used its monthly video allowance. It resets {resets}.",
}
REJECTED = "The video service rejected the request: {detail}. Nothing was charged."
MODERATION = (
    "The video service's content filter blocked the prompt or an image. "
    "Try different wording or images. Nothing was charged."
)
AUTH = "The bot's video service key is not working. An admin needs to fix it. Nothing was charged."
BALANCE = "The shared video account has run out of credit. Tell an admin. Nothing was charged."
THROTTLED = (
    "The video service is busy right now. Please try again in a minute. Nothing was charged."
)
UPSTREAM = (
    "The video service is having trouble right now. Please try again later. Nothing was charged."
)
UNKNOWN = (
    "The connection to the video service broke while submitting, so I can't tell whether the "
    "video was started. To avoid paying twice I won't resubmit it. Nothing was charged to you."
)
TASK_FAILED = {
    "DataInspectionFailed": MODERATION,
    "InvalidImageUrl": "The video service could not read one of the reference images. "
    "Nothing was charged.",
    "InvalidParameter": "The video service rejected the request: {detail}. Nothing was charged.",
}
TASK_FAILED_OTHER = "The video service failed to make this video ({detail}). Nothing was charged."
EXPIRED = "The video took too long and was given up on. Nothing was charged."
TASK_UNKNOWN = (
    "The video service no longer knows this job (its record expired or was lost). "
    "Nothing was charged; please start it again."
)
DOWNLOAD = (
    "The video was made but could not be fetched from the video service. Nothing was charged."
)
CANCELED = "This job was canceled before it started. Nothing was charged."
INTERNAL = "Something went wrong on my side. Nothing was charged; please try again."

ADMIN_ONLY = "Only server admins can use this."


def relative(ts: float) -> str:
    return f"<t:{int(ts)}:R>"


def error_message(error: BaseException) -> str:
    """The one message a user sees for ``error``."""
    match error:
        case BadReference():
            return f"Problem with {error.image}: {error.detail}"
        case BadInput():
            return BAD_INPUT.get(error.reason, error.reason)
        case NotAllowed():
            return NOT_ALLOWED.get(error.reason, INTERNAL)
        case QuotaExceeded():
            text = QUOTA.get(error.reason, INTERNAL)
            resets = relative(error.resets_at) if error.resets_at else "soon"
            return text.format(resets=resets)
        case ModerationBlocked():
            return MODERATION
        case RejectedInput():
            return REJECTED.format(detail=_short(error.message))
        case AuthError():
            return AUTH
        case OutOfBalance():
            return BALANCE
        case Throttled():
            return THROTTLED
        case UnknownOutcome():
            return UNKNOWN
        case UpstreamError():
            return UPSTREAM
        case TaskFailed():
            template = TASK_FAILED.get(error.code or "", TASK_FAILED_OTHER)
            return template.format(detail=_short(error.message))
        case TaskExpired():
            return EXPIRED if error.code == "deadline" else TASK_UNKNOWN
        case DownloadError():
            return DOWNLOAD
        case JobCanceled():
            return CANCELED
        case HHError():
            return INTERNAL
    return INTERNAL


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def human_size(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def money(milli: int | None) -> str:
    return "unlimited" if milli is None else f"${milli / 1000:.2f}"


# -- /quota and /jobs ------------------------------------------------------------------------
QUOTA_TITLE = "Your video allowance"
QUOTA_TODAY = "Today (UTC)"
QUOTA_MONTH = "This month (UTC)"
QUOTA_SERVER_TODAY = "Whole server today"
QUOTA_SERVER_MONTH = "Whole server this month"
QUOTA_JOBS = "Your jobs"
QUOTA_JOBS_LINE = "{running} running · {queued} queued"
QUOTA_PRICES = "Prices: 720P {p720}/s · 1080P {p1080}/s of video"
USAGE_LINE = "Used {spent} of {limit} · left {left} · resets {resets}"
JOBS_TITLE = "Your recent video jobs"
JOB_LINE = "`{job_id}` {state} · {when} · {prompt}{link}"
NO_JOBS = "You have no video jobs yet. Start one with /video."
OPEN = "open"

# -- /hh-admin -------------------------------------------------------------------------------
ADMIN_LIMIT_DESC = "Set a spending limit for the server, every member, a role or one member"
ADMIN_SCOPE_DESC = "Who the limit applies to"
ADMIN_PERIOD_DESC = "Per day or per month (UTC)"
ADMIN_AMOUNT_DESC = "Dollars like 2.50, 'none' for unlimited, 'default' to remove the override"
ADMIN_ROLE_OPT_DESC = "The role (when the scope is a role)"
ADMIN_MEMBER_OPT_DESC = "The member (when the scope is one member)"
ADMIN_GRANT_DESC = "Give a member extra allowance for today and this month"
ADMIN_BAN_DESC = "Stop a member from making videos"
ADMIN_UNBAN_DESC = "Let a member make videos again"
ADMIN_CHANNEL_DESC = "Allow or disallow video commands in a channel (none listed = everywhere)"
ADMIN_DEFAULTS_DESC = "Set this server's default video settings"
ADMIN_ROLE_DESC = "Set the role that may use /hh-admin (leave empty to clear)"
ADMIN_RUNNING_DESC = "List unfinished video jobs on this server"
ADMIN_USAGE_DESC = "Usage and cost per member for a period"
ADMIN_BAD_AMOUNT = "Give an amount in dollars like 2.50, or 'none' for unlimited."
ADMIN_NEED_ROLE = "Pick the role this limit is for."
ADMIN_NEED_MEMBER = "Pick the member this limit is for."
ADMIN_BAD_SCOPE = "Unknown scope."
ADMIN_BAD_PERIOD = "The period must be day or month."
ADMIN_BAD_DEFAULT = "That value isn't valid for {name}."
ADMIN_LIMIT_SET = "Limit for {target} per {period} is now {amount}."
ADMIN_GRANTED = "Granted {member} an extra {amount} for today and this month."
ADMIN_BANNED = "{member} can no longer make videos here."
ADMIN_UNBANNED = "{member} can make videos again."
ADMIN_CHANNELS = "Video commands are allowed in: {channels}."
ADMIN_ALL_CHANNELS = "every channel"
ADMIN_DEFAULTS = (
    "Server defaults: {resolution} · {duration}s · {ratio} · watermark {watermark} · "
    "prompt extend {prompt_extend}."
)
ADMIN_ROLE_SET = "Bot admin role: {role}."
ADMIN_NO_ROLE = "none (Manage Server only)"
ADMIN_NOTHING_RUNNING = "No unfinished jobs on this server."
ADMIN_RUNNING_TITLE = "Unfinished jobs"
ADMIN_RUNNING_LINE = "`{job_id}` {user} {state} · {when} · {cost} {link}"
ADMIN_NO_USAGE = "No jobs in that period."
ADMIN_USAGE_TITLE = "Usage this {period}: {total} charged · {billed} possibly billed"
ADMIN_USAGE_LINE = (
    "{user}: {jobs} jobs · {spent} charged · {billed} possibly billed · {reserved} reserved"
)
ADMIN_USAGE_NOTE = (
    "Charged: delivered videos. Possibly billed: every task the API may have billed the key for,"
    " including jobs that ended without a video after their task was made."
)

# -- buttons and /hh-admin running: more answers ---------------------------------------------
ALREADY_CANCELED = "Job {job_id} was already canceled; nothing was charged."
ALREADY_ENDED = "Job {job_id} has already ended; there is nothing left to cancel."
CANCEL_NOT_READY = "Job {job_id} is still being set up. Try again in a moment."
ADMIN_RUNNING_MORE = "…and {count} more."
