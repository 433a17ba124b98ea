"""The Discord layer's view of the catalogue (:mod:`hh_bot.i18n`): every user-facing string as
a module attribute, the error → message map, and the rendering helpers (money, relative times,
sizes). The words themselves live in ``hh_bot/i18n/en.py`` (and ``zh_cn.py``).

Every attribute is a :class:`~hh_bot.i18n.lazy.LazyText`: English as its ``str`` value, the
reader's language wherever it becomes text (``str()``, f-strings, ``.format``). The locale is
set at the boundary (``cogs/ui/locale_hook.py``: per interaction, per job), so call sites write
``s.NAME`` / ``s.NAME.format(...)`` and never name a language."""

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
from hh_bot.i18n import Reason, render
from hh_bot.i18n.lazy import LazyText
from hh_bot.i18n.locale import current_locale
from hh_bot.jobs.model import JobState


def _t(key: str) -> LazyText:
    """The template of ``key``, rendered in the reader's locale when used (placeholders left
    for ``str.format``)."""
    return LazyText(key)


# -- command and option descriptions (≤ 100 characters each) ---------------------------------
VIDEO_DESC = _t("video.desc")
PROMPT_DESC = _t("video.prompt_desc")
IMAGE_DESC = _t("video.image_desc")
URLS_DESC = _t("video.urls_desc")
RESOLUTION_DESC = _t("video.resolution_desc")
DURATION_DESC = _t("video.duration_desc")
RATIO_DESC = _t("video.ratio_desc")
SEED_DESC = _t("video.seed_desc")
WATERMARK_DESC = _t("video.watermark_desc")
PROMPT_EXTEND_DESC = _t("video.prompt_extend_desc")
MAKE_VIDEO_MENU = _t("video.menu")
MODAL_TITLE = _t("video.modal_title")
MODAL_PROMPT = _t("video.modal_prompt")
MODAL_PROMPT_HINT = _t("video.modal_prompt_hint")
MODAL_RESOLUTION = _t("video.modal_resolution")
MODAL_DURATION = _t("video.modal_duration")
MODAL_RATIO = _t("video.modal_ratio")
MODAL_SEED = _t("video.modal_seed")
QUOTA_DESC = _t("quota.desc")
JOBS_DESC = _t("jobs.desc")
ADMIN_DESC = _t("admin.desc")

# -- progress --------------------------------------------------------------------------------
STATE_LABEL = {
    JobState.QUEUED: _t("state.queued"),
    JobState.SUBMITTING: _t("state.submitting"),
    JobState.RUNNING: _t("state.running"),
    JobState.DOWNLOADING: _t("state.downloading"),
    JobState.DELIVERING: _t("state.delivering"),
    JobState.DONE: _t("state.done"),
    JobState.FAILED: _t("state.failed"),
    JobState.CANCELED: _t("state.canceled"),
    JobState.EXPIRED: _t("state.expired"),
}
STARTED_PRIVATE = _t("video.started_private")
PROGRESS_TITLE = _t("progress.title")
QUEUE_POSITION = _t("progress.queue_position")
ETA = _t("progress.eta")
STARTED = _t("progress.started")
FIELD_PROMPT = _t("progress.field_prompt")
FIELD_SETTINGS = _t("progress.field_settings")
FIELD_REFERENCES = _t("progress.field_references")
MORE_REFERENCES = _t("progress.more_references")
FIELD_COST = _t("progress.field_cost")
SETTINGS_LINE = _t("progress.settings_line")
FOOTER = _t("progress.footer")

# -- results ---------------------------------------------------------------------------------
READY = _t("result.ready")
READY_LINK = _t("result.ready_link")
READY_LINK_UNKNOWN_SIZE = _t("result.ready_link_unknown_size")
READY_FITTED = _t("result.ready_fitted")
READY_LINK_FIT_FAILED = _t("result.ready_link_fit_failed")
FAILED_FOR = _t("result.failed_for")
NOTHING_CHARGED = _t("result.nothing_charged")
MESSAGE_IMAGE_LABEL = _t("reference.label.message_image")

# -- buttons ---------------------------------------------------------------------------------
CANCEL = _t("button.cancel")
DELETE = _t("button.delete")
NOT_YOURS = _t("button.not_yours")
NOT_THIS_SERVER = _t("button.not_this_server")
BUTTON_FAILED = _t("button.failed")
DISCORD_UNREACHABLE = _t("button.discord_unreachable")
CANCELED_OK = _t("button.canceled_ok")
CANNOT_CANCEL = _t("button.cannot_cancel")
DELETED_OK = _t("button.deleted_ok")
JOB_GONE = _t("button.job_gone")

# -- errors ----------------------------------------------------------------------------------
BAD_INPUT = {
    "empty_prompt": _t("input.empty_prompt"),
    "long_prompt": _t("input.long_prompt"),
    "long_prompt_cjk": _t("input.long_prompt_cjk"),
    "bad_resolution": _t("input.bad_resolution"),
    "bad_duration": _t("input.bad_duration"),
    "bad_ratio": _t("input.bad_ratio"),
    "bad_seed": _t("input.bad_seed"),
    "no_images": _t("input.no_images"),
    "no_message_images": _t("input.no_message_images"),
    "too_many_images": _t("input.too_many_images"),
    "no_references": _t("input.no_references"),
    "too_many_references": _t("input.too_many_references"),
    "blocklist_empty": _t("input.blocklist_empty"),
    "blocklist_whitespace_only": _t("input.blocklist_whitespace_only"),
    "blocklist_only_wildcards": _t("input.blocklist_only_wildcards"),
    "blocklist_only_punctuation": _t("input.blocklist_only_punctuation"),
    "blocklist_too_long": _t("input.blocklist_too_long"),
    "blocklist_too_many_wildcards": _t("input.blocklist_too_many_wildcards"),
    "blocklist_control_character": _t("input.blocklist_control_character"),
    "blocklist_too_many_rules": _t("input.blocklist_too_many_rules"),
    "blocklist_duplicate": _t("input.blocklist_duplicate"),
    "blocklist_not_found": _t("input.blocklist_not_found"),
    "settings_bad_delivery": _t("input.settings_bad_delivery"),
    "settings_bad_flag": _t("input.settings_bad_flag"),
    "settings_bad_suffix": _t("input.settings_bad_suffix"),
    "settings_unknown": _t("input.settings_unknown"),
}
NOT_ALLOWED = {
    "dm": _t("access.dm"),
    "banned": _t("access.banned"),
    "channel": _t("access.channel"),
    "blocked": _t("access.blocked"),
}
QUOTA = {
    "banned": NOT_ALLOWED["banned"],
    "too_many_jobs": _t("quota.too_many_jobs"),
    "cooldown": _t("quota.cooldown"),
    "moderation_cooldown": _t("quota.moderation_cooldown"),
    "user_day": _t("quota.user_day"),
    "user_month": _t("quota.user_month"),
    "guild_day": _t("quota.guild_day"),
    "guild_month": _t("quota.guild_month"),
}
REJECTED = _t("error.rejected")
MODERATION = _t("error.moderation")
AUTH = _t("error.auth")
BALANCE = _t("error.balance")
THROTTLED = _t("error.throttled")
UPSTREAM = _t("error.upstream")
UNKNOWN = _t("error.unknown_outcome")
TASK_FAILED = {
    "DataInspectionFailed": MODERATION,
    "InvalidImageUrl": _t("error.invalid_image_url"),
    "InvalidParameter": REJECTED,
}
TASK_FAILED_OTHER = _t("error.task_failed")
EXPIRED = _t("error.expired")
TASK_UNKNOWN = _t("error.task_unknown")
DOWNLOAD = _t("error.download")
CANCELED = _t("error.canceled")
INTERNAL = _t("error.internal")

ADMIN_ONLY = _t("access.admin_only")


def relative(ts: float) -> str:
    """A relative time ("in 5 minutes"): Discord renders it in each reader's own language
    and time zone, so it is right in every locale as it is."""
    return f"<t:{int(ts)}:R>"


def reason_text(reason: Reason) -> str:
    """A core ``Reason`` (a refused reference, …) as the sentence a user reads."""
    return render(reason, current_locale.get())


def error_message(error: BaseException) -> str:
    """The one message a user sees for ``error``."""
    match error:
        case BadReference():
            problem = Reason("reference.problem", {"image": error.image}, error.problem)
            return render(problem, current_locale.get())
        case BadInput():
            shown = BAD_INPUT.get(error.reason, error.reason)
            return shown.format_map(error.params) if error.params else shown
        case NotAllowed():
            return NOT_ALLOWED.get(error.reason, INTERNAL)
        case QuotaExceeded():
            text = QUOTA.get(error.reason, INTERNAL)
            resets = relative(error.resets_at) if error.resets_at else _t("quota.resets_soon")
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
            failed = TASK_FAILED.get(error.code or "", TASK_FAILED_OTHER)
            return failed.format(detail=_short(error.message))
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
    """A file size in the reader's notation (MB is written the same in both languages)."""
    return _t("format.size_mb").format(size=f"{size / (1024 * 1024):.1f}")


def money(milli: int | None) -> str:
    """Dollars (the gateway bills in USD) in the reader's notation: "$1.20", "1.20 美元"."""
    if milli is None:
        return str(_t("quota.unlimited"))
    return _t("format.money").format(amount=f"{milli / 1000:.2f}")


# -- /quota and /jobs ------------------------------------------------------------------------
QUOTA_TITLE = _t("quota.title")
QUOTA_TODAY = _t("quota.today")
QUOTA_MONTH = _t("quota.month")
QUOTA_SERVER_TODAY = _t("quota.server_today")
QUOTA_SERVER_MONTH = _t("quota.server_month")
QUOTA_JOBS = _t("quota.jobs")
QUOTA_JOBS_LINE = _t("quota.jobs_line")
QUOTA_PRICES = _t("quota.prices")
USAGE_LINE = _t("quota.usage_line")
QUOTA_STRIKES = _t("quota.strikes")
QUOTA_STRIKES_LINE = _t("quota.strikes_line")
QUOTA_STRIKES_COOLING = _t("quota.strikes_cooling")
JOBS_TITLE = _t("jobs.title")
JOB_LINE = _t("jobs.line")
NO_JOBS = _t("jobs.none")
OPEN = _t("jobs.open")

# -- /hh-admin -------------------------------------------------------------------------------
ADMIN_LIMIT_DESC = _t("admin.limit_desc")
ADMIN_SCOPE_DESC = _t("admin.scope_desc")
ADMIN_PERIOD_DESC = _t("admin.period_desc")
ADMIN_AMOUNT_DESC = _t("admin.amount_desc")
ADMIN_ROLE_OPT_DESC = _t("admin.role_opt_desc")
ADMIN_MEMBER_OPT_DESC = _t("admin.member_opt_desc")
ADMIN_GRANT_DESC = _t("admin.grant_desc")
ADMIN_BAN_DESC = _t("admin.ban_desc")
ADMIN_UNBAN_DESC = _t("admin.unban_desc")
ADMIN_CHANNEL_DESC = _t("admin.channel_desc")
ADMIN_DEFAULTS_DESC = _t("admin.defaults_desc")
ADMIN_ROLE_DESC = _t("admin.role_desc")
ADMIN_RUNNING_DESC = _t("admin.running_desc")
ADMIN_USAGE_DESC = _t("admin.usage_desc")
ADMIN_BAD_AMOUNT = _t("admin.bad_amount")
ADMIN_NEED_ROLE = _t("admin.need_role")
ADMIN_NEED_MEMBER = _t("admin.need_member")
ADMIN_BAD_SCOPE = _t("admin.bad_scope")
ADMIN_BAD_PERIOD = _t("admin.bad_period")
ADMIN_BAD_DEFAULT = _t("admin.bad_default")
ADMIN_LIMIT_SET = _t("admin.limit_set")
ADMIN_GRANTED = _t("admin.granted")
ADMIN_BANNED = _t("admin.banned")
ADMIN_UNBANNED = _t("admin.unbanned")
ADMIN_CHANNELS = _t("admin.channels")
ADMIN_ALL_CHANNELS = _t("admin.all_channels")
ADMIN_BLOCKLIST_DESC = _t("admin.blocklist_desc")
ADMIN_BLOCKLIST_ACTION_DESC = _t("admin.blocklist_action_desc")
ADMIN_BLOCKLIST_PHRASE_DESC = _t("admin.blocklist_phrase_desc")
ADMIN_BLOCKLIST_NEED_PHRASE = _t("admin.blocklist_need_phrase")
ADMIN_BLOCKLIST_ADDED = _t("admin.blocklist_added")
ADMIN_BLOCKLIST_REMOVED = _t("admin.blocklist_removed")
ADMIN_BLOCKLIST_LIST = _t("admin.blocklist_list")
ADMIN_BLOCKLIST_MORE = _t("admin.blocklist_more")
ADMIN_BLOCKLIST_EMPTY = _t("admin.blocklist_empty")
ADMIN_DEFAULTS = _t("admin.defaults")
ADMIN_ROLE_SET = _t("admin.role_set")
ADMIN_NO_ROLE = _t("admin.no_role")
ADMIN_NOTHING_RUNNING = _t("admin.nothing_running")
ADMIN_RUNNING_TITLE = _t("admin.running_title")
ADMIN_RUNNING_LINE = _t("admin.running_line")
ADMIN_NO_USAGE = _t("admin.no_usage")
ADMIN_USAGE_TITLE = _t("admin.usage_title")
ADMIN_USAGE_LINE = _t("admin.usage_line")
ADMIN_USAGE_NOTE = _t("admin.usage_note")
ADMIN_RUNNING_MORE = _t("admin.running_more")
ADMIN_EXPORT_DESC = _t("admin.export_desc")
ADMIN_EXPORT_PERIOD_DESC = _t("admin.export_period_desc")
ADMIN_EXPORT_BAD_PERIOD = _t("admin.export_bad_period")
ADMIN_EXPORT_PART = _t("admin.export_part")
ADMIN_PURGE_DESC = _t("admin.purge_desc")
ADMIN_PURGE_MEMBER_DESC = _t("admin.purge_member_desc")
ADMIN_PURGED = _t("admin.purged")
ADMIN_PURGE_RUNNING = _t("admin.purge_running")

# -- spend charts ----------------------------------------------------------------------------
CHART_SERVER_TITLE = _t("chart.server_title")
CHART_USER_TITLE = _t("chart.user_title")
CHART_X_LABEL = _t("chart.x_label")
CHART_Y_LABEL = _t("chart.y_label")
CHART_MONTH_TOTAL = _t("chart.month_total")
CHART_MONTH_AXIS = _t("chart.month_axis")
CHART_DAILY_LIMIT = _t("chart.daily_limit")
CHART_MONTHLY_LIMIT = _t("chart.monthly_limit")
CHART_OTHERS = _t("chart.others")
CHART_ANONYMOUS = _t("chart.anonymous")

ADMIN_PERIODS = {"day": _t("admin.period.day"), "month": _t("admin.period.month")}
ADMIN_BLOCKLIST_ACTIONS = {
    "add": _t("admin.blocklist_action.add"),
    "remove": _t("admin.blocklist_action.remove"),
    "list": _t("admin.blocklist_action.list"),
}
ADMIN_SCOPES = {
    "user": _t("admin.scope.user"),
    "guild": _t("admin.scope.guild"),
    "role": _t("admin.scope.role"),
    "member": _t("admin.scope.member"),
}
ADMIN_AMOUNT_DEFAULT = _t("admin.amount_default")

# -- buttons and /hh-admin running: more answers ---------------------------------------------
ALREADY_CANCELED = _t("button.already_canceled")
ALREADY_ENDED = _t("button.already_ended")
CANCEL_NOT_READY = _t("button.cancel_not_ready")


# -- the audit channel and budget alerts (cogs/admin_audit.py, cogs/audit_post.py) ------------
ADMIN_AUDIT_DESC = _t("admin.audit_desc")
ADMIN_AUDIT_ACTION_DESC = _t("admin.audit_action_desc")
ADMIN_AUDIT_CHANNEL_DESC = _t("admin.audit_channel_desc")
ADMIN_AUDIT_DM_DESC = _t("admin.audit_dm_desc")
ADMIN_AUDIT_ACTIONS = {
    "set": _t("admin.audit_action.set"),
    "clear": _t("admin.audit_action.clear"),
    "show": _t("admin.audit_action.show"),
}
ADMIN_AUDIT_SET = _t("admin.audit_set")
ADMIN_AUDIT_SET_DM = _t("admin.audit_set_dm")
ADMIN_AUDIT_CLEARED = _t("admin.audit_cleared")
ADMIN_AUDIT_NONE = _t("admin.audit_none")
ADMIN_AUDIT_SHOW = _t("admin.audit_show")
ADMIN_AUDIT_NEED_CHANNEL = _t("admin.audit_need_channel")
ADMIN_AUDIT_BAD_CHANNEL = _t("admin.audit_bad_channel")
AUDIT_ADMITTED = _t("audit.admitted")
AUDIT_DELIVERED = _t("audit.delivered")
AUDIT_DELIVERED_UNLINKED = _t("audit.delivered_unlinked")
AUDIT_ENDED = _t("audit.ended")
AUDIT_CANCELED = _t("audit.canceled")
AUDIT_STRIKE = _t("audit.strike")
AUDIT_STRIKE_COOLING = _t("audit.strike_cooling")
AUDIT_ALERT = _t("audit.alert")
AUDIT_ALERT_FULL = _t("audit.alert_full")
AUDIT_CANNOT_POST = _t("audit.cannot_post")
AUDIT_WHY = {
    50013: _t("audit.why.permissions"),
    50001: _t("audit.why.access"),
    10003: _t("audit.why.unknown"),
}
AUDIT_ADMIN = {
    "limit": _t("audit.admin.limit"),
    "grant": _t("audit.admin.grant"),
    "ban": _t("audit.admin.ban"),
    "unban": _t("audit.admin.unban"),
    "channel_allowed": _t("audit.admin.channel_allowed"),
    "channel_removed": _t("audit.admin.channel_removed"),
    "blocklist_add": _t("audit.admin.blocklist_add"),
    "blocklist_remove": _t("audit.admin.blocklist_remove"),
    "defaults": _t("audit.admin.defaults"),
    "admin_role": _t("audit.admin.admin_role"),
    "purge": _t("audit.admin.purge"),
    "audit_channel": _t("audit.admin.audit_channel"),
}
# -- /settings and the server's rules --------------------------------------------------------
SETTINGS_DESC = _t("settings.desc")
SETTINGS_RESOLUTION_DESC = _t("settings.resolution_desc")
SETTINGS_DURATION_DESC = _t("settings.duration_desc")
SETTINGS_RATIO_DESC = _t("settings.ratio_desc")
SETTINGS_WATERMARK_DESC = _t("settings.watermark_desc")
SETTINGS_PROMPT_EXTEND_DESC = _t("settings.prompt_extend_desc")
SETTINGS_DELIVERY_DESC = _t("settings.delivery_desc")
SETTINGS_SUFFIX_DESC = _t("settings.suffix_desc")
SETTINGS_RESET_DESC = _t("settings.reset_desc")
SETTINGS_DELIVERIES = {
    "channel": _t("settings.delivery.channel"),
    "dm": _t("settings.delivery.dm"),
}
SETTINGS_RESET_ALL = _t("settings.reset.all")
SETTINGS_NAMES = {
    "resolution": _t("settings.name.resolution"),
    "duration": _t("settings.name.duration"),
    "ratio": _t("settings.name.ratio"),
    "watermark": _t("settings.name.watermark"),
    "prompt_extend": _t("settings.name.prompt_extend"),
    "delivery": _t("settings.name.delivery"),
    "suffix": _t("settings.name.suffix"),
}
SETTINGS_TITLE = _t("settings.title")
SETTINGS_CARD_LINE = _t("settings.line")
SETTINGS_SOURCES = {
    "yours": _t("settings.source.yours"),
    "server": _t("settings.source.server"),
    "capped": _t("settings.source.capped"),
}
SETTINGS_NONE = _t("settings.none")
SETTINGS_ON = _t("settings.on")
SETTINGS_OFF = _t("settings.off")
SETTINGS_RULES = _t("settings.rules")
SETTINGS_SAVED = _t("settings.saved")
SETTINGS_RESET_DONE = _t("settings.reset_done")
SETTINGS_CAPPED = _t("settings.capped")
SETTINGS_CAPPED_PARTS = {
    "resolution": _t("settings.capped_resolution"),
    "duration": _t("settings.capped_duration"),
}
SENT_BY_DM = _t("result.sent_by_dm")
ADMIN_RULES_DESC = _t("admin.rules_desc")
ADMIN_RULES_RESOLUTIONS_DESC = _t("admin.rules_resolutions_desc")
ADMIN_RULES_MAX_DURATION_DESC = _t("admin.rules_max_duration_desc")
ADMIN_RULES_RESET_DESC = _t("admin.rules_reset_desc")
ADMIN_RULES_CHOICES = {
    "all": _t("admin.rules.all"),
    "720P": _t("admin.rules.720p"),
    "1080P": _t("admin.rules.1080p"),
}
ADMIN_RULES_SHOWN = _t("admin.rules_shown")

# -- /show -------------------------------------------------------------------------------------
SHOW_DESC = _t("show.desc")
SHOW_JOB_DESC = _t("show.job_desc")
SHOW_UNKNOWN = _t("show.unknown")
SHOW_NOT_YOURS = _t("show.not_yours")
SHOW_OTHER_SERVER = _t("show.other_server")
SHOW_UNFINISHED = _t("show.unfinished")
SHOW_NO_VIDEO = _t("show.no_video")
SHOW_EXPIRED = _t("show.expired")
SHOW_POSTED = _t("show.posted")
SHOW_POST_FILE = _t("show.post_file")
SHOW_POST_LINK = _t("show.post_link")
SHOW_CHOICE = _t("show.choice")
SHOW_AGE_MINUTES = _t("show.age_minutes")
SHOW_AGE_HOURS = _t("show.age_hours")
SHOW_AGE_DAYS = _t("show.age_days")
# -- iterating on a result: Retry, Remix, Continue, Parameters (issue #10) -------------------
RETRY = _t("button.retry")
REMIX = _t("button.remix")
CONTINUE = _t("button.continue")
PARAMETERS = _t("button.parameters")
DOUBLE_CLICK = _t("button.double_click")
STARTED_FOR_YOU = _t("button.started_for_you")
REMIX_TITLE = _t("button.remix_title")
CONTINUE_TITLE = _t("button.continue_title")
REPLACE_LABEL = _t("button.replace_label")
REPLACE_DESC = _t("button.replace_desc")
NO_ARCHIVE = _t("button.no_archive")
FRAME_FAILED = _t("button.frame_failed")
CARD_TITLE = _t("button.card_title")
CARD_PROMPT = _t("button.card_prompt")
CARD_REFERENCES = _t("button.card_references")
CARD_SETTINGS = _t("button.card_settings")
CARD_SETTINGS_LINE = _t("button.card_settings_line")
CARD_SEED = _t("button.card_seed")
CARD_SEED_RANDOM = _t("button.card_seed_random")
CARD_COST = _t("button.card_cost")
CARD_TASK = _t("button.card_task")
CARD_TIMINGS = _t("button.card_timings")
CARD_TIMINGS_LINE = _t("button.card_timings_line")
CARD_NOT_YET = _t("button.card_not_yet")
CARD_ON = _t("button.card_on")
CARD_OFF = _t("button.card_off")
CARD_DEFAULT = _t("button.card_default")
CARD_LINEAGE = _t("button.card_lineage")
CARD_VIDEO = _t("button.card_video")
CARD_VIDEO_LINE = _t("button.card_video_line")
BAD_INPUT["reference_expired"] = _t("input.reference_expired")
ORIGINS = {
    "command": _t("jobs.origin.command"),
    "menu": _t("jobs.origin.menu"),
    "retry": _t("jobs.origin.retry"),
    "remix": _t("jobs.origin.remix"),
    "continue": _t("jobs.origin.continue"),
}
JOB_LINE_ORIGIN = _t("jobs.line_origin")
# -- settings words and command names (issue #10: two languages) -----------------------------
SEED_RANDOM = _t("progress.seed_random")
ON = _t("progress.on")
OFF = _t("progress.off")


def on_off(flag: bool | None) -> str:
    """A setting's state as the reader says it ("on"/"off", "开"/"关")."""
    return str(ON if flag else OFF)


COMMAND_NAMES = (
    _t("command.video"),
    _t("command.prompt"),
    _t("command.image1"),
    _t("command.image2"),
    _t("command.image3"),
    _t("command.image4"),
    _t("command.image5"),
    _t("command.image6"),
    _t("command.image7"),
    _t("command.image8"),
    _t("command.image9"),
    _t("command.urls"),
    _t("command.resolution"),
    _t("command.duration"),
    _t("command.ratio"),
    _t("command.seed"),
    _t("command.watermark"),
    _t("command.prompt_extend"),
    _t("command.quota"),
    _t("command.jobs"),
    _t("command.hh_admin"),
    _t("command.limit"),
    _t("command.scope"),
    _t("command.period"),
    _t("command.amount"),
    _t("command.role"),
    _t("command.member"),
    _t("command.grant"),
    _t("command.ban"),
    _t("command.unban"),
    _t("command.channel"),
    _t("command.allowed"),
    _t("command.blocklist"),
    _t("command.action"),
    _t("command.phrase"),
    _t("command.defaults"),
    _t("command.admin_role"),
    _t("command.running"),
    _t("command.usage"),
    _t("command.export"),
    _t("command.purge_user"),
    _t("command.show"),
    _t("command.job"),
    _t("command.settings"),
    _t("command.delivery"),
    _t("command.suffix"),
    _t("command.reset"),
    _t("command.rules"),
    _t("command.resolutions"),
    _t("command.max_duration"),
    _t("command.audit_channel"),
    _t("command.dm_alerts"),
)
"""Every command, group and option name, English value = the registered name; the translator
(``cogs/ui/translator.py``) finds a name's localisations through it. A new command or option
appends its name here (and ``command.<name>`` to each catalogue)."""
