"""The typed errors of the core: one base class, one subclass per way a job can go wrong.

The Discord layer maps each class to one user-facing message through the catalogue
(:mod:`hh_bot.i18n`): errors carry codes and parameters (``BadInput.reason``, a
:class:`~hh_bot.i18n.Reason`), and their ``str()`` is an English sentence for logs only.
"""

from __future__ import annotations

from collections.abc import Mapping

from hh_bot.i18n import Param, Reason, render


class HHError(Exception):
    """Base of every error the core raises on purpose."""


class BadInput(HHError):
    """The user's input is wrong; found before any money is spent. ``reason`` is a code (the
    ``input.*`` catalogue key without its prefix), ``params`` fill its template."""

    def __init__(
        self,
        reason: str,
        *,
        field: str | None = None,
        params: Mapping[str, Param] | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.params: Mapping[str, Param] = dict(params or {})


class BadReference(BadInput):
    """One reference image is unusable. ``image`` names it (e.g. "image2" or "link 1"),
    ``problem`` says why (a ``reference.*`` reason, possibly wrapping a cause); ``reason`` is
    the problem's code. ``str()`` is the English sentence, for logs."""

    def __init__(self, image: str, reason: Reason) -> None:
        super().__init__(reason.code, field=image)
        self.image = image
        self.problem = reason
        self.args = (f"{image}: {render(reason)}",)


class ApiError(HHError):
    """Base of errors coming from the HappyHorse API."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class RejectedInput(ApiError):
    """The API refused the request's content (400 InvalidParameter, parse errors)."""


class ModerationBlocked(ApiError):
    """The prompt or an image was blocked by content moderation (DataInspectionFailed)."""


class AuthError(ApiError):
    """The API key is wrong or not allowed (401/403). An operator problem, not the user's."""


class Throttled(ApiError):
    """Rate limited (429 Throttling); safe to retry after ``retry_after`` seconds."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, code: str = "Throttling"
    ) -> None:
        super().__init__(message, status=429, code=code)
        self.retry_after = retry_after


class OutOfBalance(ApiError):
    """The shared account has run out of money (429 with a balance/quota message)."""


class UpstreamError(ApiError):
    """5xx or a connection failure. ``task_may_exist`` says whether a create may have landed."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        task_may_exist: bool = False,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.task_may_exist = task_may_exist


class UnknownOutcome(ApiError):
    """A create was sent but its answer was lost: a task may exist and may be billed."""


class TaskFailed(ApiError):
    """The task ran and failed upstream (failed tasks are not billed)."""


class TaskExpired(ApiError):
    """The task id is unknown or expired, or the overall deadline passed."""


class DownloadError(HHError):
    """The finished video could not be fetched (expired link, too large, truncated)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class UnsafeLink(DownloadError):
    """The API handed out a result link the bot must not fetch (not https, a private or
    metadata address, a redirect): the job fails, and the link is never shown to anyone.
    ``problem`` is the ``download.*`` reason when the public-address rules refused it."""

    def __init__(self, reason: Reason | str, *, status: int | None = None) -> None:
        super().__init__(render(reason) if isinstance(reason, Reason) else reason, status=status)
        self.problem = reason if isinstance(reason, Reason) else None


class QuotaExceeded(HHError):
    """A quota or cap refuses the job; ``reason`` says which, ``resets_at`` when it lifts."""

    def __init__(self, reason: str, *, resets_at: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.resets_at = resets_at


class JobCanceled(HHError):
    """The owner or an admin canceled the job before it was submitted."""


class NotAllowed(HHError):
    """The user may not generate here: ``reason`` is "banned", "channel" or "dm"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
