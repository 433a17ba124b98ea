"""Cancel and Delete buttons that survive restarts (``DynamicItem`` with the job id inside)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from cogs.ui import strings as s

if TYPE_CHECKING:
    from bot import HHBot


class CancelButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"hh:cancel:(?P<job>[0-9a-f]{6,32})"
):
    def __init__(self, job_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=s.CANCEL, style=discord.ButtonStyle.secondary, custom_id=f"hh:cancel:{job_id}"
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> CancelButton:
        return cls(match["job"])

    async def callback(self, interaction: discord.Interaction[HHBot]) -> None:  # type: ignore[override]
        await interaction.client.job_actions.cancel(interaction, self.job_id)


class DeleteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"hh:delete:(?P<job>[0-9a-f]{6,32})"
):
    def __init__(self, job_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=s.DELETE, style=discord.ButtonStyle.danger, custom_id=f"hh:delete:{job_id}"
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> DeleteButton:
        return cls(match["job"])

    async def callback(self, interaction: discord.Interaction[HHBot]) -> None:  # type: ignore[override]
        await interaction.client.job_actions.delete(interaction, self.job_id)


def job_view(job_id: str, *, cancel: bool = False, delete: bool = False) -> discord.ui.View | None:
    if not (cancel or delete):
        return None
    view = discord.ui.View(timeout=None)
    if cancel:
        view.add_item(CancelButton(job_id))
    if delete:
        view.add_item(DeleteButton(job_id))
    return view
