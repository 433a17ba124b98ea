"""The video service: what the Discord layer calls to turn a checked request into a queued job.

Order matters and is the product's promise: policy (ban, channel, blocked words), then
reference images (the only step with I/O before money), then the quota reservation stored
together with the job, then the hand-over to the runner. A failure before the hand-over raises
a typed error and spends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hh_bot.access.policy import Policy
from hh_bot.access.quota import Quota, cost_of
from hh_bot.clock import Clock
from hh_bot.config import Defaults, Settings
from hh_bot.errors import NotAllowed
from hh_bot.jobs.lineage import COMMAND, Lineage
from hh_bot.jobs.model import Job, JobParams, ReplyTarget, new_job_id
from hh_bot.jobs.request_checks import GenParams
from hh_bot.jobs.runner import Runner
from hh_bot.references.checker import AttachmentMeta, Reference, ReferenceChecker
from hh_bot.store.interface import Store


@dataclass(frozen=True)
class VideoRequest:
    user_id: int
    guild_id: int | None
    channel_id: int
    parent_channel_id: int | None  # a thread's channel, else None
    role_ids: tuple[int, ...]
    prompt: str  # already cleaned by ``request_checks.clean_prompt``
    params: GenParams
    attachments: tuple[tuple[str, AttachmentMeta], ...]
    urls: tuple[str, ...]
    # An iteration on an earlier job (Retry, Remix, Continue): its Discord attachments, checked
    # when that job was admitted, reused after the new attachments and before the links.
    kept: tuple[Reference, ...] = ()
    lineage: Lineage = COMMAND


class VideoService:
    def __init__(
        self,
        *,
        settings: Settings,
        clock: Clock,
        store: Store,
        policy: Policy,
        quota: Quota,
        checker: ReferenceChecker,
        runner: Runner,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._store = store
        self._policy = policy
        self._quota = quota
        self._checker = checker
        self._runner = runner

    async def check_allowed(
        self,
        user_id: int,
        guild_id: int | None,
        channel_id: int,
        parent_channel_id: int | None = None,
    ) -> None:
        """Refuse DMs, banned users and channels off the server's list (a thread counts as its
        parent channel, ``parent_channel_id``)."""
        if guild_id is None:
            raise NotAllowed("dm")
        if await self._policy.is_banned(guild_id, user_id):
            raise NotAllowed("banned")
        if not await self._policy.channel_allowed(guild_id, channel_id, parent_channel_id):
            raise NotAllowed("channel")

    async def defaults(self, guild_id: int | None) -> Defaults:
        return await self._policy.defaults(guild_id)

    async def admit(self, request: VideoRequest, reply: ReplyTarget) -> Job:
        """Check and reserve: returns the stored, queued job, not yet handed to the runner.

        The front end posts the public progress reply only after this succeeds, then calls
        ``launch``; a crash in between leaves a queued job that the next start runs.
        """
        await self.check_allowed(
            request.user_id, request.guild_id, request.channel_id, request.parent_channel_id
        )
        if await self._policy.prompt_blocked(request.guild_id, request.prompt):
            raise NotAllowed("blocked")  # private, and without quoting the server's rule
        references = await self._references(request)
        s = request.params
        params = JobParams(
            prompt=request.prompt,
            image_urls=tuple(r.url for r in references),
            image_labels=tuple(r.label for r in references),
            resolution=s.resolution,
            duration=s.duration,
            ratio=s.ratio,
            watermark=s.watermark,
            prompt_extend=s.prompt_extend,
            seed=s.seed,
        )
        now = self._clock.now()
        job = Job(
            id=new_job_id(),
            user_id=request.user_id,
            guild_id=request.guild_id,
            params=params,
            reply=reply,
            cost=cost_of(self._settings, s.resolution, s.duration),
            created_at=now,
            updated_at=now,
            parent_id=request.lineage.parent_id,
            origin=request.lineage.origin,
            source_channel_id=request.lineage.source_channel_id,
            source_message_id=request.lineage.source_message_id,
        )
        await self._quota.admit(job, request.role_ids)
        return job

    async def _references(self, request: VideoRequest) -> list[Reference]:
        """Every reference checked: new attachments from their metadata, links in full; the
        kept ones of an iteration as they were (see ``hh_bot.jobs.lineage``)."""
        if not request.kept:
            return await self._checker.check_all(request.attachments, request.urls)
        fresh = [self._checker.check_attachment(label, m) for label, m in request.attachments]
        links = await self._checker.check_all((), request.urls) if request.urls else []
        return [*fresh, *request.kept, *links]

    async def launch(self, job: Job, message_id: int | None) -> Job:
        """Record where the public reply lives and queue the job."""
        if message_id is not None:
            job = job.with_changes(
                self._clock.now(), reply=replace(job.reply, message_id=message_id)
            )
            await self._store.save(job)
        await self._runner.enqueue(job)
        return job
