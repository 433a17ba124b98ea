"""``Job.video_facts``: what the delivered video really is, kept by both stores (the column of
the V8 migration), made from a probe of a real clip; ``None`` for jobs delivered before."""

from __future__ import annotations

from pathlib import Path

from hh_bot.jobs.fitting import FittedCopies
from hh_bot.jobs.handover import facts_of
from hh_bot.jobs.model import VideoFacts
from hh_bot.media import Fitter
from hh_bot.store.interface import Store
from tests.media_clips import Clips, clips_fixture, normal_ffmpeg  # noqa: F401 - fixtures
from tests.test_store import T0, S, finish, insert, make_job


async def test_facts_round_trip_on_both_stores(store: Store) -> None:
    job = make_job("f1")
    await insert(store, job)
    assert (await store.get_job("f1")) == job and job.video_facts is None
    facts = VideoFacts(duration=5.042, width=1280, height=720, size=12_345_678, audio=False)
    done = finish(job, S.DONE).with_changes(T0 + 300, video_facts=facts)
    await store.save(done)
    again = await store.get_job("f1")
    assert again == done and again is not None and again.video_facts == facts


def test_facts_json_round_trips() -> None:
    facts = VideoFacts(duration=15.0, width=1080, height=1920, size=40 << 20, audio=True)
    assert VideoFacts.from_json(facts.to_json()) == facts


async def test_facts_come_from_one_probe_of_the_file(tmp_path: Path, clips: Clips) -> None:
    ffmpeg = normal_ffmpeg()
    copies = FittedCopies(
        Fitter(ffmpeg, tmp_dir=tmp_path / "fit"), clips.portrait, clips.portrait.stat().st_size
    )
    try:
        info = await copies.facts()
        assert await copies.facts() is info and ffmpeg.runs == 1  # measured once
        facts = facts_of(info)
        assert facts is not None
        assert (facts.width, facts.height, facts.audio) == (1080, 1920, True)
        assert facts.size == clips.portrait.stat().st_size and abs(facts.duration - 2.0) <= 0.1
    finally:
        await copies.aclose()


async def test_an_unreadable_file_has_no_facts_and_is_not_fitted(
    tmp_path: Path, clips: Clips
) -> None:
    ffmpeg = normal_ffmpeg()
    size = clips.header_only.stat().st_size
    copies = FittedCopies(Fitter(ffmpeg, tmp_dir=tmp_path / "fit"), clips.header_only, size)
    try:
        assert facts_of(await copies.facts()) is None and copies.failure is not None
        assert await copies.within(size - 1) is None and ffmpeg.runs == 1  # no second try
        assert await copies.poster(10**6) is None
    finally:
        await copies.aclose()
    fit_dir = tmp_path / "fit"
    assert not fit_dir.exists() or list(fit_dir.iterdir()) == []
