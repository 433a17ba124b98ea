"""Continue end to end: the last frame of the archived original (a real H.264 clip through the
fake HappyHorse) becomes the first reference of a new job, as an attachment of that job's public
reply; without an archived original the click is answered privately and nothing is made."""

from __future__ import annotations

from pathlib import Path

from cogs.ui import strings as s
from hh_bot.config import MediaSettings
from tests.bot_world import bot_world, modal_inputs
from tests.fakes.discord_payloads import BOB_ID
from tests.fakes.happyhorse import TaskScript
from tests.media_clips import Clips, clips_fixture  # noqa: F401 - fixture
from tests.test_e2e_iterate import answer, delivered, new_job

SLOW = 20.0  # the frame takes an ffmpeg run: keep it far inside the token's virtual life


async def test_continue_starts_from_the_last_frame(tmp_path: Path, clips: Clips) -> None:
    media = MediaSettings(archive_dir=str(tmp_path / "archive"))
    async with bot_world(tmp_path, script=TaskScript(duration=5), factor=SLOW, media=media) as w:
        w.hh.video_bytes = clips.small.read_bytes()
        images = [w.image(f"ref{n}.png") for n in range(1, 10)]  # nine: the last is dropped
        job, result = await delivered(w, images=images)
        assert w.services.archive is not None and await w.services.archive.has(job.id)
        click = await w.discord.click_button(result.id, f"hh:continue:{job.id}", user=BOB_ID)
        await w.discord.wait_for(lambda: bool(w.discord.modals), timeout=10)
        modal = w.discord.modals[-1]
        assert modal.data["title"] == s.CONTINUE_TITLE
        assert modal_inputs(modal.data)["prompt"]["value"] == job.params.prompt
        submit = await w.discord.submit_modal(
            modal.custom_id, {"prompt": "character1 walks on"}, user=BOB_ID
        )
        continued = await new_job(w, submit)
        assert click.responded
        assert (continued.origin, continued.parent_id, continued.user_id) == (
            "continue", job.id, BOB_ID,
        )  # fmt: skip
        reply = await w.wait_reply(submit)
        # The reply was posted with the frame (its delivery later replaces the attachments).
        [posted] = [
            r for r in w.discord.requests_matching("POST", rf"/{submit.token}$")
            if r.message_id == reply.id
        ]  # fmt: skip
        assert [f.filename for f in posted.files] == ["last-frame.jpg"]
        assert posted.files[0].data[:3] == b"\xff\xd8\xff", "a JPEG ffmpeg really wrote"
        frame = next(a for a in w.discord.cdn.values() if a.data == posted.files[0].data)
        media_urls = [m["url"] for m in w.hh.creates()[-1].json["input"]["media"]]
        assert media_urls[0] == frame.url
        assert media_urls[1:] == list(job.params.image_urls[:8]), "the ninth is dropped"
        assert continued.params.image_urls == tuple(media_urls)
        assert w.hh.creates()[-1].json["input"]["prompt"] == "character1 walks on"

        # A Retry of the continued job takes the frame again (the first one left with the
        # reply it was posted on when the result replaced it), then the same originals.
        assert not any(a.url == frame.url for a in reply.attachments)
        continued_result = await w.outcome(submit)
        retry = await w.discord.click_button(
            continued_result.id, f"hh:retry:{continued.id}", user=BOB_ID
        )
        retried = await new_job(w, retry)
        assert (retried.origin, retried.parent_id) == ("retry", continued.id)
        again = [m["url"] for m in w.hh.creates()[-1].json["input"]["media"]]
        assert again[0] != frame.url and again[0].split("?")[0].endswith("/last-frame.jpg")
        assert again[1:] == media_urls[1:]
        assert retried.params.image_labels[0] == continued.params.image_labels[0]


async def test_continue_without_an_archived_original_is_refused(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:  # the default test world keeps no archive
        job, result = await delivered(w)
        click = await w.discord.click_button(result.id, f"hh:continue:{job.id}")
        assert (await answer(w, click)).content == s.NO_ARCHIVE
        assert not w.discord.modals and w.creates() == 1 and await w.rows() == (1, 2)
