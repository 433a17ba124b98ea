"""Files submitted through a modal's file-upload component (type 19, inside a label, type 18).

A Discord client uploads the files first and submits their attachment ids as the component's
``values``; the attachments themselves come in the submit's ``data.resolved.attachments``.
``upload_values`` turns the attachment specs a test gives (dicts, bytes or FakeAttachments, as
for slash options) into those ids and the resolved payloads, checking the component's bounds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakes.discord_commands import ClientCheckError
from tests.fakes.discord_payloads import JSON

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord

FILE_UPLOAD = 19
LABEL = 18


def _uploads(modal: JSON) -> dict[str, JSON]:
    """The modal's file-upload components by custom_id."""
    found: dict[str, JSON] = {}
    for comp in modal.get("components") or []:
        inner = comp.get("component") if comp.get("type") == LABEL else None
        if isinstance(inner, dict) and inner.get("type") == FILE_UPLOAD:
            found[str(inner.get("custom_id"))] = inner
    return found


def upload_values(
    fake: FakeDiscord, channel_id: int, modal: JSON, values: dict[str, Any], *, enforce: bool
) -> tuple[dict[str, Any], JSON]:
    """``values`` with each file-upload's specs replaced by attachment ids, and the
    ``resolved.attachments`` map to send with them."""
    uploads = _uploads(modal)
    out = dict(values)
    resolved: JSON = {}
    for cid, comp in uploads.items():
        specs = list(values.get(cid) or [])
        required = comp.get("required", True)
        low = comp.get("min_values")
        low = (1 if required else 0) if low is None else low
        high = comp.get("max_values")
        high = 1 if high is None else high
        if enforce and not (low <= len(specs) <= high) and (specs or required):
            raise ClientCheckError(f"file upload {cid!r}: {len(specs)} files, {low}..{high}")
        attachments = [fake.make_attachment(channel_id, spec) for spec in specs]
        out[cid] = [str(a.id) for a in attachments]
        resolved.update({str(a.id): a.payload() for a in attachments})
    return out, resolved
