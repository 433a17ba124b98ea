"""The baseline: a HappyHorse video bot written the way the API's documentation reads.

Deliberately ordinary, like most bots written for such an API: it creates the task, polls it
every 5 seconds (the docs' "then every 5–10 s"), edits its reply after every poll, reads the
whole video into memory with ``await resp.read()`` and uploads it from a ``BytesIO``. There is
no queue, no budget and no restart safety; every command runs on its own.

The benchmark runs it through ``bench.naive_launch`` (endpoint overrides, scaled clock); the
single seam for that is ``sleep``.

    DISCORD_TOKEN=… APIYI_API_KEY=… APIYI_BASE_URL=… python -m bench.naive_bot
"""

from __future__ import annotations

import asyncio
import io
import os

import aiohttp
import discord
from discord import app_commands

CREATE_PATH = "/wan/api/v1/services/aigc/video-generation/video-synthesis"
POLL_INTERVAL = 5

sleep = asyncio.sleep  # the benchmark's launcher swaps in its scaled clock


class NaiveBot(discord.Client):
    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default())
        self.tree = app_commands.CommandTree(self)
        self.session: aiohttp.ClientSession | None = None
        self.api_base = os.environ.get("APIYI_BASE_URL", "https://api.apiyi.com")
        self.api_key = os.environ["APIYI_API_KEY"]

    async def setup_hook(self) -> None:
        self.session = aiohttp.ClientSession()
        self.tree.add_command(video)
        await self.tree.sync()

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        await super().close()


@app_commands.command(name="video", description="Make a video from a prompt and an image")
async def video(
    interaction: discord.Interaction[NaiveBot],
    prompt: str,
    image1: discord.Attachment,
    resolution: str = "720P",
    duration: int = 5,
) -> None:
    await interaction.response.defer(thinking=True)
    bot = interaction.client
    assert bot.session is not None
    headers = {"Authorization": f"Bearer {bot.api_key}"}
    body = {
        "model": "happyhorse-1.0-r2v",
        "input": {"prompt": prompt, "media": [{"type": "reference_image", "url": image1.url}]},
        "parameters": {"resolution": resolution, "duration": duration, "watermark": False},
    }
    async with bot.session.post(
        bot.api_base + CREATE_PATH,
        json=body,
        headers={**headers, "X-DashScope-Async": "enable"},
    ) as resp:
        created = await resp.json()
    task_id = created["output"]["task_id"]

    while True:
        await sleep(POLL_INTERVAL)
        async with bot.session.get(f"{bot.api_base}/v1/tasks/{task_id}", headers=headers) as resp:
            task = await resp.json()
        status = task.get("status")
        await interaction.edit_original_response(
            content=f"⏳ Generating… status: {status}, {task.get('progress', 0)}%"
        )
        if status == "completed":
            break
        if status == "failed":
            await interaction.edit_original_response(content=f"❌ {task.get('fail_reason')}")
            return

    async with bot.session.get(task["result_url"]) as resp:
        data = await resp.read()
    await interaction.followup.send(
        content=f"{interaction.user.mention} your video is ready!",
        file=discord.File(io.BytesIO(data), filename="video.mp4"),
    )


def main() -> None:
    NaiveBot().run(os.environ["DISCORD_TOKEN"], log_handler=None)


if __name__ == "__main__":
    main()
