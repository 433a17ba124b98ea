"""The English catalogue: every word a user reads, by key. Other locales mirror these keys and
placeholders (``tests/test_catalog.py`` checks that every key is well formed and used).

Keys are dotted, grouped by prefix:

``video.*``      /video and the "Make video" menu: descriptions, the modal
``progress.*``   the progress embed of a job
``state.*``      job state labels
``result.*``     a finished (or failed) job's announcement
``button.*``     Cancel / Delete and their answers
``input.*``      bad input found before any money is spent (``BadInput`` codes)
``access.*``     where and by whom videos may be made (``NotAllowed`` codes)
``quota.*``      allowances (``QuotaExceeded`` codes) and the /quota card
``jobs.*``       the /jobs list
``error.*``      everything else that can end a request or a job
``admin.*``      /hh-admin
``chart.*``      the words on the spend charts (/hh-admin usage, /quota)
``reference.*``  why a reference image or link is refused (``Reason`` codes of the checker
                 and the public-address policy; ``{reason}`` is the wrapped cause)
``download.*``   why a result link is refused (``Reason`` codes; shown to operators in logs)
``audit.*``      the lines of a server's audit channel and budget alerts
``settings.*``   /settings: each member's own defaults, and the caps of the server's rules
``show.*``       /show: posting a job's video again
``format.*``     how money and sizes are written in this language
``command.*``    command and option names (English = the names Discord registers; other
                 locales' values become the commands' localised names)
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_NOTHING = "Nothing was charged."
_KINDS = "JPEG, PNG or WEBP"

MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        # -- /video and the menu: descriptions (≤ 100 characters each) ---------------------
        "video.desc": "Make a short video from a prompt and 1–9 reference images",
        "video.prompt_desc": "What happens in the video; refer to images as character1, "
        "character2, …",
        "video.image_desc": "A reference image (JPEG, PNG or WEBP, short side ≥ 400 px, ≤ 10 MB)",
        "video.urls_desc": "Links to reference images (https), separated by spaces or new lines",
        "video.resolution_desc": "Video resolution",
        "video.duration_desc": "Length in seconds (2–15)",
        "video.ratio_desc": "Aspect ratio",
        "video.seed_desc": "Random seed for repeatable results (0–2147483647)",
        "video.watermark_desc": "Add the provider's watermark",
        "video.prompt_extend_desc": "Let the model enrich your prompt",
        "video.menu": "Make video",
        "video.modal_title": "Make a video from this message",
        "video.modal_prompt": "Prompt",
        "video.modal_prompt_hint": "character1 walks through a sunset garden",
        "video.modal_resolution": "Resolution (720P or 1080P)",
        "video.modal_duration": "Duration in seconds (2–15)",
        "video.modal_ratio": "Aspect ratio (16:9, 9:16, 1:1, 4:3, 3:4)",
        "video.modal_seed": "Seed (optional)",
        "video.started_private": "Job `{job_id}` accepted ({cost} reserved). "
        "Follow it in the reply below.",
        # -- progress ------------------------------------------------------------------------
        "state.queued": "⏳ Queued",
        "state.submitting": "📨 Submitting",
        "state.running": "🎬 Generating",
        "state.downloading": "📥 Fetching the video",
        "state.delivering": "📤 Uploading",
        "state.done": "✅ Done",
        "state.failed": "❌ Failed",
        "state.canceled": "🚫 Canceled",
        "state.expired": "⌛ Timed out",
        "progress.title": "Video job {job_id}",
        "progress.queue_position": "Position in queue: **{position}**",
        "progress.eta": "Expected {relative}",
        "progress.started": "Started {relative}",
        "progress.field_prompt": "Prompt",
        "progress.field_settings": "Settings",
        "progress.field_references": "References",
        "progress.more_references": "+{count} more",
        "progress.field_cost": "Cost",
        "progress.settings_line": "{resolution} · {duration}s · {ratio} · seed {seed} · "
        "watermark {watermark}",
        "progress.footer": "job {job_id}",
        # -- results -------------------------------------------------------------------------
        "result.ready": "<@{user_id}> your video is ready.",
        "result.ready_link": "<@{user_id}> your video is ready, but at {size} it is too large "
        "to upload here. Download it: {url} (the link expires {expires}).",
        "result.ready_link_unknown_size": "<@{user_id}> your video is ready: {url} "
        "(the link expires {expires}).",
        "result.ready_fitted": "<@{user_id}> your video is ready. At {size} the original is too "
        "large to upload here, so this is a smaller copy; the original: {url} "
        "(the link expires {expires}).",
        "result.ready_link_fit_failed": "<@{user_id}> your video is ready, but at {size} it was "
        "too large to upload here and could not be shrunk. Here is the link: {url} "
        "(it expires {expires}).",
        "result.failed_for": "<@{user_id}> your video job {job_id} did not finish: {reason}",
        "result.nothing_charged": _NOTHING,
        # -- buttons ---------------------------------------------------------------------------
        "button.cancel": "Cancel",
        "button.delete": "Delete",
        "button.not_yours": "Only the person who started this job, or a server admin, can do that.",
        "button.not_this_server": "That job belongs to another server; it can only be "
        "managed there.",
        "button.failed": "Something went wrong on my side; please try again in a moment.",
        "button.discord_unreachable": "Discord didn't answer me in time. Nothing was charged; "
        "please try again.",
        "button.canceled_ok": "Canceled job {job_id}; nothing was charged.",
        "button.cannot_cancel": "Job {job_id} has already been sent to the video service, "
        "which cannot stop it. It will finish on its own.",
        "button.deleted_ok": "Deleted.",
        "button.job_gone": "That job no longer exists.",
        "button.already_canceled": "Job {job_id} was already canceled; nothing was charged.",
        "button.already_ended": "Job {job_id} has already ended; there is nothing left to cancel.",
        "button.cancel_not_ready": "Job {job_id} is still being set up. Try again in a moment.",
        # -- bad input -------------------------------------------------------------------------
        "input.empty_prompt": "Please write a prompt: it can't be empty.",
        "input.blocklist_empty": "Give a word or phrase to block.",
        "input.blocklist_whitespace_only": "Give a word or phrase to block, not just spaces.",
        "input.blocklist_only_wildcards": "An entry needs at least one letter besides *.",
        "input.blocklist_only_punctuation": "An entry needs at least one letter or digit.",
        "input.blocklist_too_long": "That entry is too long: at most {limit} characters.",
        "input.blocklist_too_many_wildcards": "That entry has too many *: at most {limit}.",
        "input.blocklist_control_character": "That entry contains invisible control characters.",
        "input.blocklist_too_many_rules": "The list is full: at most {limit} entries.",
        "input.blocklist_duplicate": "That word or phrase is already blocked.",
        "input.blocklist_not_found": "That word or phrase is not on the list.",
        "input.long_prompt": "The prompt is too long: at most 5000 characters.",
        "input.long_prompt_cjk": "The prompt is too long: Chinese, Japanese and Korean "
        "characters count double, so at most 2500 of them (or 5000 characters of other text, "
        "counted together).",
        "input.bad_resolution": "Resolution must be 720P or 1080P.",
        "input.bad_duration": "Duration must be a whole number of seconds from 2 to 15.",
        "input.bad_ratio": "Aspect ratio must be one of 16:9, 9:16, 1:1, 4:3, 3:4.",
        "input.bad_seed": "Seed must be a whole number from 0 to 2147483647.",
        "input.no_images": "Add at least one reference image (attach it or paste an https link).",
        "input.no_message_images": "That message has no images I can use as references.",
        "input.too_many_images": "Too many reference images: at most 9 in total, attachments "
        "and links together.",
        "input.no_references": "no reference images were given: attach at least one image "
        "or give an https link",
        "input.too_many_references": "too many reference images: {n} images, at most {limit} "
        "are allowed",
        # -- where and who ---------------------------------------------------------------------
        "access.dm": "Videos can only be made in a server, not in direct messages.",
        "access.banned": "You are not allowed to make videos on this server.",
        "access.channel": "Videos can't be made in this channel. Ask an admin where the bot "
        "is allowed.",
        "access.admin_only": "Only server admins can use this.",
        "access.blocked": "This server doesn't allow something in your prompt. Change the "
        "wording and try again. Nothing was charged.",
        # -- quotas ------------------------------------------------------------------------------
        "quota.too_many_jobs": "You already have as many jobs running and queued as allowed. "
        "Wait for one to finish.",
        "quota.cooldown": "Please wait a moment between videos: you can start the next one "
        "{resets}.",
        "quota.moderation_cooldown": "Your recent requests were refused by the video "
        "provider's content check, so new videos are paused for you: you can start the next "
        "one {resets}. Nothing was charged.",
        "quota.strikes": "Content check",
        "quota.strikes_line": "{count} refused today · the next refusal pauses you for {next}",
        "quota.strikes_cooling": "{count} refused today · paused, you can start again {resets}",
        "quota.user_day": "You have used your daily video allowance. It resets {resets}.",
        "quota.user_month": "You have used your monthly video allowance. It resets {resets}.",
        "quota.guild_day": "This server has used its daily video allowance. It resets {resets}.",
        "quota.guild_month": "This server has used its monthly video allowance. "
        "It resets {resets}.",
        "quota.resets_soon": "soon",
        "quota.desc": "Your video allowance: used, left, and when it resets",
        "quota.title": "Your video allowance",
        "quota.today": "Today (UTC)",
        "quota.month": "This month (UTC)",
        "quota.server_today": "Whole server today",
        "quota.server_month": "Whole server this month",
        "quota.jobs": "Your jobs",
        "quota.jobs_line": "{running} running · {queued} queued",
        "quota.prices": "Prices: 720P {p720}/s · 1080P {p1080}/s of video",
        "quota.usage_line": "Used {spent} of {limit} · left {left} · resets {resets}",
        "quota.unlimited": "unlimited",
        # -- /jobs -------------------------------------------------------------------------------
        "jobs.desc": "Your recent video jobs",
        "jobs.title": "Your recent video jobs",
        "jobs.line": "`{job_id}` {state} · {when} · {prompt}{link}",
        "jobs.none": "You have no video jobs yet. Start one with /video.",
        "jobs.open": "open",
        # -- errors ------------------------------------------------------------------------------
        "error.rejected": "The video service rejected the request: {detail}. " + _NOTHING,
        "error.moderation": "The video service's content filter blocked the prompt or an "
        "image. Try different wording or images. " + _NOTHING,
        "error.auth": "The bot's video service key is not working. An admin needs to fix it. "
        + _NOTHING,
        "error.balance": "The shared video account has run out of credit. Tell an admin. "
        + _NOTHING,
        "error.throttled": "The video service is busy right now. Please try again in a minute. "
        + _NOTHING,
        "error.upstream": "The video service is having trouble right now. Please try again "
        "later. " + _NOTHING,
        "error.unknown_outcome": "The connection to the video service broke while submitting, "
        "so I can't tell whether the video was started. To avoid paying twice I won't resubmit "
        "it. Nothing was charged to you.",
        "error.invalid_image_url": "The video service could not read one of the reference "
        "images. " + _NOTHING,
        "error.task_failed": "The video service failed to make this video ({detail}). " + _NOTHING,
        "error.expired": "The video took too long and was given up on. " + _NOTHING,
        "error.task_unknown": "The video service no longer knows this job (its record expired "
        "or was lost). Nothing was charged; please start it again.",
        "error.download": "The video was made but could not be fetched from the video "
        "service. " + _NOTHING,
        "error.canceled": "This job was canceled before it started. " + _NOTHING,
        "error.internal": "Something went wrong on my side. Nothing was charged; please try again.",
        # -- /hh-admin ---------------------------------------------------------------------------
        "admin.desc": "Manage the video bot on this server",
        "admin.limit_desc": "Set a spending limit for the server, every member, a role or "
        "one member",
        "admin.scope_desc": "Who the limit applies to",
        "admin.period_desc": "Per day or per month (UTC)",
        "admin.amount_desc": "Dollars like 2.50, 'none' for unlimited, 'default' to remove "
        "the override",
        "admin.role_opt_desc": "The role (when the scope is a role)",
        "admin.member_opt_desc": "The member (when the scope is one member)",
        "admin.grant_desc": "Give a member extra allowance for today and this month",
        "admin.ban_desc": "Stop a member from making videos",
        "admin.unban_desc": "Let a member make videos again",
        "admin.channel_desc": "Allow or disallow video commands in a channel "
        "(none listed = everywhere)",
        "admin.defaults_desc": "Set this server's default video settings",
        "admin.role_desc": "Set the role that may use /hh-admin (leave empty to clear)",
        "admin.running_desc": "List unfinished video jobs on this server",
        "admin.usage_desc": "Usage and cost per member for a period",
        "admin.period.day": "day",
        "admin.period.month": "month",
        "admin.blocklist_action.add": "add",
        "admin.blocklist_action.remove": "remove",
        "admin.blocklist_action.list": "list",
        "admin.scope.user": "each member (default)",
        "admin.scope.guild": "the whole server",
        "admin.scope.role": "members with a role",
        "admin.scope.member": "one member",
        "admin.amount_default": "default",
        "admin.bad_amount": "Give an amount in dollars like 2.50, or 'none' for unlimited.",
        "admin.need_role": "Pick the role this limit is for.",
        "admin.need_member": "Pick the member this limit is for.",
        "admin.bad_scope": "Unknown scope.",
        "admin.bad_period": "The period must be day or month.",
        "admin.bad_default": "That value isn't valid for {name}.",
        "admin.limit_set": "Limit for {target} per {period} is now {amount}.",
        "admin.granted": "Granted {member} an extra {amount} for today and this month.",
        "admin.banned": "{member} can no longer make videos here.",
        "admin.unbanned": "{member} can make videos again.",
        "admin.channels": "Video commands are allowed in: {channels}.",
        "admin.all_channels": "every channel",
        "admin.blocklist_desc": "Block words or phrases in prompts on this server (add, remove "
        "or list)",
        "admin.blocklist_action_desc": "Add or remove an entry, or list them all",
        "admin.blocklist_phrase_desc": "A word or phrase; * matches any part of a word",
        "admin.blocklist_need_phrase": "Give the word or phrase to add or remove.",
        "admin.blocklist_added": "Prompts containing {phrase} are now refused ({count} entries).",
        "admin.blocklist_removed": "{phrase} is no longer blocked ({count} entries).",
        "admin.blocklist_list": "Blocked in prompts on this server ({count}): {entries}",
        "admin.blocklist_more": "…and {count} more",
        "admin.blocklist_empty": "Nothing is blocked in prompts on this server.",
        "admin.defaults": "Server defaults: {resolution} · {duration}s · {ratio} · "
        "watermark {watermark} · prompt extend {prompt_extend}.",
        "admin.role_set": "Bot admin role: {role}.",
        "admin.no_role": "none (Manage Server only)",
        "admin.nothing_running": "No unfinished jobs on this server.",
        "admin.running_title": "Unfinished jobs",
        "admin.running_line": "`{job_id}` {user} {state} · {when} · {cost} {link}",
        "admin.running_more": "…and {count} more.",
        "admin.no_usage": "No jobs in that period.",
        "admin.usage_title": "Usage this {period}: {total} charged · {billed} possibly billed",
        "admin.usage_line": "{user}: {jobs} jobs · {spent} charged · {billed} possibly billed "
        "· {reserved} reserved",
        "admin.usage_note": "Charged: delivered videos. Possibly billed: every task the API "
        "may have billed the key for, including jobs that ended without a video after their "
        "task was made.",
        "admin.export_desc": "The ledger of a month as CSV files, for accounting",
        "admin.export_period_desc": "The month, as YYYY-MM (default: this month, UTC)",
        "admin.export_bad_period": "Give the month as YYYY-MM, for example 2026-11.",
        "admin.export_part": "Ledger {period}, file {number}: {rows} entries · {charged} "
        "charged · {billed} possibly billed",
        "admin.purge_desc": "Remove a member's prompts, reference images and results from "
        "the bot's records",
        "admin.purge_member_desc": "Whose content to remove",
        "admin.purged": "Removed the prompts, reference images and results of {member}'s "
        "{jobs} finished jobs, and their /settings, from the bot's records. What they spent "
        "stays in the totals, no longer under their name. Jobs other members made, also by "
        "retrying their work, belong to those members and were kept. Messages already posted "
        "in Discord (results, audit lines) are Discord's and are not removed by this.",
        "admin.purge_running": "{count} of their jobs are still running: run this again once "
        "they have ended.",
        # -- spend charts (/hh-admin usage, /quota) ----------------------------------------------
        "chart.server_title": "Charged per day, {month}",
        "chart.user_title": "Your videos per day, {month}",
        "chart.x_label": "Day of the month (UTC)",
        "chart.y_label": "Charged per day (USD)",
        "chart.month_total": "Month so far",
        "chart.month_axis": "Month so far (USD)",
        "chart.daily_limit": "Daily limit",
        "chart.monthly_limit": "Monthly limit",
        "chart.others": "Everyone else",
        "chart.anonymous": "(removed member)",
        # -- reference images: the checker ------------------------------------------------------
        "reference.problem": "Problem with {image}: {reason}",
        # labels name an image inside other reasons ("is the same image as link 1")
        "reference.label.link": "link {number}",
        "reference.label.message_image": "image {number} ({filename})",
        "reference.label.frame": "last frame",
        "reference.duplicate": "is the same image as {other}",
        "reference.not_cdn": "is not hosted on Discord's CDN ({host})",
        "reference.not_cdn_invalid": "is not hosted on Discord's CDN (its link is not valid)",
        "reference.not_cdn_no_host": "is not hosted on Discord's CDN (no host)",
        "reference.not_cdn_https": "is not an https link on Discord's CDN (got {scheme})",
        "reference.unknown_type": f"its file type is unknown; only {_KINDS} images are accepted",
        "reference.wrong_type": f"is {{ctype}}, not a {_KINDS} image",
        "reference.no_content_type": "the server does not say what type of file it is; "
        f"only {_KINDS} images work",
        "reference.empty": "is empty (0 bytes)",
        "reference.too_large": "is {size}, the limit is {limit}",
        "reference.unreadable": "is not an image Discord could read (its size in pixels "
        "is unknown)",
        "reference.too_small": "is {w}×{h}, the short side must be at least {min_side} px",
        "reference.http_status": "the server answered {status}",
        "reference.too_many_redirects": "redirects too many times (more than {n})",
        "reference.redirect_nowhere": "the server sent a redirect without saying where to",
        "reference.via_redirect": "redirects to {target}: {reason}",
        "reference.via_redirect_link": "redirects to a link: {reason}",
        "reference.redirect_invalid": "redirects to something that is not a valid link",
        "reference.timed_out": "the server did not answer within {seconds:g} s",
        "reference.certificate": "its HTTPS certificate could not be verified",
        "reference.unreachable": "the server could not be reached",
        "reference.broken_answer": "the server did not answer properly",
        "reference.unknown_token": "an unknown type",
        # -- reference links: the public-address policy -----------------------------------------
        "reference.link.not_a_link": "is not a link (it must start with https://)",
        "reference.link.invalid": "is not a valid link",
        "reference.link.too_long": "the link is too long",
        "reference.link.only_https": "only https links are accepted (got {scheme})",
        "reference.link.user_info": "links with a user name or password in them are not accepted",
        "reference.link.bad_port": "the link has an invalid port",
        "reference.link.no_host": "the link has no host name",
        # a host or address problem is a verb phrase; the reasons below give it a subject
        "reference.host.address": "the address {reason}",
        "reference.host.name": "{host} {reason}",
        "reference.host.resolves_to": "{host} resolves to an address that {reason}",
        "reference.host.bad_numeric": "the host {host} looks like an IP address but is not "
        "a valid one",
        "reference.host.not_found": "the host {host} could not be found",
        "reference.address.loopback": "points to the bot's own machine (loopback)",
        "reference.address.private": "points to a private network",
        "reference.address.cgnat": "points to a private network (carrier-grade NAT)",
        "reference.address.link_local": "is link-local (only reachable on a local network segment)",
        "reference.address.metadata": "is a cloud metadata address",
        "reference.address.unspecified": "is the unspecified address (0.0.0.0 or ::)",
        "reference.address.multicast": "is a multicast address",
        "reference.address.broadcast": "is a broadcast address",
        "reference.address.documentation": "is reserved for documentation",
        "reference.address.reserved": "is in a reserved range",
        "reference.address.not_global": "is not a public internet address",
        "reference.address.mapped": "is an IPv4 address written in IPv6 form, which is not "
        "accepted",
        "reference.address.translated": "is an IPv6 translation address (NAT64, 6to4 or "
        "Teredo), which is not accepted",
        "reference.address.zone_id": "has a zone id (link-local), which is not accepted",
        "reference.address.local_name": "is a local name, not a public address",
        "reference.address.single_label": "is not a full public domain name",
        "reference.address.invalid_host": "is not a valid host name",
        # -- result links -----------------------------------------------------------------------
        "download.link_refused": "the video link was refused: {reason}",
        "download.host_not_found": "the video host {host} could not be found",
        "download.host_resolves_to": "the video host {host} resolves to an address that {reason}",
        # -- the audit channel (/hh-admin audit-channel) and budget alerts ------------------
        "admin.audit_desc": "Set, clear or show the channel where jobs, refunds and admin actions "
        "are logged",
        "admin.audit_action_desc": "What to do with the audit channel",
        "admin.audit_channel_desc": "The text channel to log to (for set)",
        "admin.audit_dm_desc": "Also send you the budget alerts in a DM (for set)",
        "admin.audit_action.set": "set",
        "admin.audit_action.clear": "clear",
        "admin.audit_action.show": "show",
        "admin.audit_set": "Job events, refunds, admin actions and budget alerts are now logged "
        "in {channel}. If I can't post there, I tell {admin} once in a DM.",
        "admin.audit_set_dm": "Budget alerts also come to you in a DM.",
        "admin.audit_cleared": "No audit channel any more: nothing is logged.",
        "admin.audit_none": "No audit channel is set; set one with /hh-admin audit-channel.",
        "admin.audit_show": "Audit lines go to {channel} (set by {admin}).",
        "admin.audit_need_channel": "Name the text channel to log to.",
        "admin.audit_bad_channel": "Pick a text channel of this server for the audit log.",
        "audit.admitted": "▶️ {user} started job `{job_id}`: {cost} reserved, {refs} reference "
        "image(s). “{prompt}”",
        "audit.delivered": "✅ Job `{job_id}` of {user} delivered, {cost} charged: {link}",
        "audit.delivered_unlinked": "✅ Job `{job_id}` of {user} delivered, {cost} charged.",
        "audit.ended": "↩️ Job `{job_id}` of {user} ended without a video ({reason}); {cost} "
        "released.",
        "audit.canceled": "↩️ Job `{job_id}` of {user} was canceled before it started; {cost} "
        "released.",
        "audit.strike": "⚠️ {user}: provider moderation refusal number {count} today.",
        "audit.strike_cooling": "⚠️ {user}: provider moderation refusal number {count} today; "
        "their new requests are refused until {until}.",
        "audit.alert": "💰 This server has spent {spent} of its {period} limit of {limit} "
        "({percent} %).",
        "audit.alert_full": "🛑 This server has spent {spent} of its {period} limit of {limit}: "
        "new requests are refused until the limit resets {resets}.",
        "audit.cannot_post": "I can't post in the audit channel {channel} of {server} "
        "(Discord says: {why}). Jobs go on as usual, only unlogged. Give me View Channel and "
        "Send Messages there, or choose another channel with /hh-admin audit-channel. I won't "
        "tell you again until a post there has worked.",
        "audit.why.permissions": "missing permissions",
        "audit.why.access": "no access to the channel",
        "audit.why.unknown": "the channel no longer exists",
        "audit.admin.limit": "🛠️ {admin} set the {period} limit of {target} to {amount}.",
        "audit.admin.grant": "🛠️ {admin} granted {member} an extra {amount}.",
        "audit.admin.ban": "🛠️ {admin} banned {member} from making videos.",
        "audit.admin.unban": "🛠️ {admin} lifted the ban of {member}.",
        "audit.admin.channel_allowed": "🛠️ {admin} allowed videos in {channel}.",
        "audit.admin.channel_removed": "🛠️ {admin} took {channel} off the video channels.",
        "audit.admin.blocklist_add": "🛠️ {admin} added an entry to the block list ({count} now).",
        "audit.admin.blocklist_remove": "🛠️ {admin} removed an entry from the block list "
        "({count} now).",
        "audit.admin.defaults": "🛠️ {admin} changed the server's video defaults.",
        "audit.admin.admin_role": "🛠️ {admin} set the bot's admin role to {role}.",
        "audit.admin.purge": "🛠️ {admin} removed the content of {member} ({jobs} jobs).",
        "audit.admin.audit_channel": "🛠️ {admin} made this the audit channel.",
        # -- /settings: each member's own defaults -------------------------------------------
        "settings.desc": "See or change your own defaults for /video",
        "settings.resolution_desc": "Your default resolution",
        "settings.duration_desc": "Your default length in seconds (2–15)",
        "settings.ratio_desc": "Your default aspect ratio",
        "settings.watermark_desc": "Your default for the watermark",
        "settings.prompt_extend_desc": "Your default for prompt extension",
        "settings.delivery_desc": "Where your results go first: the channel, or your DMs",
        "settings.suffix_desc": "Text added to the end of each of your prompts (up to 300 "
        "characters)",
        "settings.reset_desc": "Forget one of your settings, or all of them",
        "settings.delivery.channel": "in the channel",
        "settings.delivery.dm": "by DM first",
        "settings.reset.all": "all of them",
        "settings.name.resolution": "Resolution",
        "settings.name.duration": "Duration",
        "settings.name.ratio": "Ratio",
        "settings.name.watermark": "Watermark",
        "settings.name.prompt_extend": "Prompt extension",
        "settings.name.delivery": "Delivery",
        "settings.name.suffix": "Prompt suffix",
        "settings.title": "Your defaults for /video",
        "settings.line": "**{name}**: {value} ({source})",
        "settings.source.yours": "yours",
        "settings.source.server": "server default",
        "settings.source.capped": "yours, capped by the server's rules",
        "settings.none": "none",
        "settings.on": "on",
        "settings.off": "off",
        "settings.rules": "This server allows {resolutions}, at most {max_duration} s; that wins "
        "over any default or option.",
        "settings.saved": "Saved. Options you give /video still win over these.",
        "settings.reset_done": "Forgotten; the server's defaults apply again.",
        "settings.capped": "The server's rules capped this request: {changes}.",
        "settings.capped_resolution": "resolution {value}",
        "settings.capped_duration": "duration {value} s",
        "input.settings_bad_delivery": "Delivery must be channel or dm.",
        "input.settings_bad_flag": "That setting takes true or false.",
        "input.settings_bad_suffix": "The prompt suffix must be 1–{max} characters of text.",
        "input.settings_unknown": "There is no setting called {name}.",
        "result.sent_by_dm": "<@{user_id}> your video was sent to you by DM, as your settings ask.",
        # -- /hh-admin rules --------------------------------------------------------------------
        "admin.rules_desc": "Allowed resolutions and the longest video on this server",
        "admin.rules_resolutions_desc": "The resolutions members may use",
        "admin.rules_max_duration_desc": "The longest video in seconds (2–15)",
        "admin.rules_reset_desc": "Lift every rule",
        "admin.rules.all": "720P and 1080P",
        "admin.rules.720p": "720P only",
        "admin.rules.1080p": "1080P only",
        "admin.rules_shown": "Rules on this server: {resolutions}, at most {max_duration} s. They "
        "win over every default and option; members are told when a value was capped.",
        # -- /show: post a job's video again -------------------------------------------------
        "show.desc": "Post one of your videos again in this channel",
        "show.job_desc": "The job id (type to pick from your recent jobs)",
        "show.unknown": "There is no job `{job_id}`. Pick one from the list, or see /jobs.",
        "show.not_yours": "Job `{job_id}` is someone else's; only they or a server admin can "
        "show it.",
        "show.other_server": "Job `{job_id}` was made on another server; it can only be shown "
        "there.",
        "show.unfinished": "Job `{job_id}` is not finished yet ({state}); its reply shows how it "
        "is going.",
        "show.no_video": "Job `{job_id}` ended without a video ({state}): there is nothing to "
        "show.",
        "show.expired": "The link to job `{job_id}`'s video expired {expired} and no copy was "
        "kept, so it can't be shown again. Retry it to make a new one (charged again).",
        "show.posted": "Job `{job_id}` is posted below.",
        "show.post_file": "Job `{job_id}` by <@{user_id}>, shown again by <@{by}>.",
        "show.post_link": "Job `{job_id}` by <@{user_id}>, shown again by <@{by}>: {url} (the "
        "link expires {expires}).",
        "show.choice": "{job_id} · {age} · {prompt}",
        "show.age_minutes": "{n} min ago",
        "show.age_hours": "{n} h ago",
        "show.age_days": "{n} d ago",
        # -- iterating on a result: Retry, Remix, Continue, Parameters (issue #10) ----------
        "button.retry": "Retry",
        "button.remix": "Remix",
        "button.continue": "Continue",
        "button.parameters": "Parameters",
        "button.double_click": "You just clicked that: one job is on its way. Wait a few "
        "seconds before clicking again.",
        "button.started_for_you": "Job `{job_id}` accepted, made from <@{owner_id}>'s result. "
        "The new job is yours and its cost, {cost}, is charged to you.",
        "button.remix_title": "Remix: a new job, charged to you",
        "button.continue_title": "Continue: a new job, charged to you",
        "button.replace_label": "New first reference (optional)",
        "button.replace_desc": "Replaces the first reference image; leave it empty to keep "
        "them all.",
        "button.no_archive": "There is no saved copy of this video any more, so it can't be "
        "continued. Retry or Remix still work. " + _NOTHING,
        "button.frame_failed": "I couldn't take the last frame of this video. " + _NOTHING,
        "button.card_title": "Parameters of job {job_id}",
        "button.card_prompt": "Prompt",
        "button.card_references": "References",
        "button.card_settings": "Settings",
        "button.card_settings_line": "{resolution} · {duration}s · {ratio} · watermark {watermark} "
        "· prompt extend {extend}",
        "button.card_seed": "Seed",
        "button.card_seed_random": "random (chosen by the video service)",
        "button.card_cost": "Cost",
        "button.card_task": "Task id",
        "button.card_timings": "Timings",
        "button.card_timings_line": "created {created} · submitted {submitted} · finished "
        "{finished}",
        "button.card_not_yet": "not yet",
        "button.card_on": "on",
        "button.card_off": "off",
        "button.card_default": "default",
        "button.card_lineage": "Made by",
        "button.card_video": "Video",
        "button.card_video_line": "{duration} s · {width}×{height} · {size}",
        "input.reference_expired": "{image} has expired on Discord and could not be renewed: "
        "please attach it again (with /video). " + _NOTHING,
        "jobs.origin.command": "/video",
        "jobs.origin.menu": "Make video",
        "jobs.origin.retry": "Retry of `{parent}`",
        "jobs.origin.remix": "Remix of `{parent}`",
        "jobs.origin.continue": "Continue of `{parent}`",
        "jobs.line_origin": "· {origin}",
        # -- per-locale notation (money in USD, sizes) ------------------------------------------
        "format.money": "${amount}",
        "format.size_mb": "{size} MB",
        "progress.seed_random": "random",
        "progress.on": "on",
        "progress.off": "off",
        # -- command and option names: English as the product spec names them; other locales'
        # names are localisations Discord shows (lowercase, no spaces, at most 32 characters)
        "command.video": "video",
        "command.prompt": "prompt",
        "command.image1": "image1",
        "command.image2": "image2",
        "command.image3": "image3",
        "command.image4": "image4",
        "command.image5": "image5",
        "command.image6": "image6",
        "command.image7": "image7",
        "command.image8": "image8",
        "command.image9": "image9",
        "command.urls": "urls",
        "command.resolution": "resolution",
        "command.duration": "duration",
        "command.ratio": "ratio",
        "command.seed": "seed",
        "command.watermark": "watermark",
        "command.prompt_extend": "prompt_extend",
        "command.quota": "quota",
        "command.jobs": "jobs",
        "command.hh_admin": "hh-admin",
        "command.limit": "limit",
        "command.scope": "scope",
        "command.period": "period",
        "command.amount": "amount",
        "command.role": "role",
        "command.member": "member",
        "command.grant": "grant",
        "command.ban": "ban",
        "command.unban": "unban",
        "command.channel": "channel",
        "command.allowed": "allowed",
        "command.blocklist": "blocklist",
        "command.action": "action",
        "command.phrase": "phrase",
        "command.defaults": "defaults",
        "command.admin_role": "admin-role",
        "command.running": "running",
        "command.usage": "usage",
        "command.export": "export",
        "command.purge_user": "purge-user",
        "command.show": "show",
        "command.job": "job",
        "command.settings": "settings",
        "command.delivery": "delivery",
        "command.suffix": "suffix",
        "command.reset": "reset",
        "command.rules": "rules",
        "command.resolutions": "resolutions",
        "command.max_duration": "max_duration",
        "command.audit_channel": "audit-channel",
        "command.dm_alerts": "dm_alerts",
    }
)
