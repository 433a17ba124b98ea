"""The floor for acknowledgement latency: a discord.py bot whose /video only defers.

Run in the acknowledgement rounds next to ours and the baseline, it shows how much of the
latency at 200 simultaneous commands is discord.py's own work per interaction (parsing the
gateway event, building the interaction, sending the callback) on this machine.

    python -m bench.naive_launch bench.floor_bot
"""

from __future__ import annotations

import os

import discord
from discord import app_commands


class FloorBot(discord.Client):
    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default())
        self.tree = app_commands.CommandTree(self)

    async def setup_hook(self) -> None:
        self.tree.add_command(video)
        await self.tree.sync()


@app_commands.command(name="video", description="Acknowledge and do nothing")
async def video(
    interaction: discord.Interaction[FloorBot],
    prompt: str,
    image1: discord.Attachment,
    resolution: str = "720P",
    duration: int = 5,
) -> None:
    await interaction.response.defer(thinking=True)


def main() -> None:
    FloorBot().run(os.environ["DISCORD_TOKEN"], log_handler=None)
