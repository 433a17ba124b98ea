"""/video end to end: a slash command over the fake gateway, the fake HappyHorse server behind."""

from __future__ import annotations

from pathlib import Path

from tests.bot_world import bot_world


async def test_video_with_attachment_delivers_the_exact_bytes(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        handle = await w.video()
        private = await w.private_answer(handle)
        assert "accepted" in private
        result = await w.outcome(handle)
        assert [a.data for a in result.attachments] == [w.hh.video_bytes]
        assert w.creates() == 1
        body = w.hh.creates()[0].json
        assert body["input"]["media"][0]["url"].startswith("https://cdn.discordapp.com/")
