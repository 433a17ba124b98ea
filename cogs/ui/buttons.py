"""Cancel and Delete buttons that survive restarts: one ``DynamicItem`` whose ``custom_id``
carries the action and the job id (``hh:cancel:<job>``, ``hh:delete:<job>``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from cogs.ui import strings as s
from cogs.ui.errors import report

if TYPE_CHECKING:
    from bot import HHBot

ACTIONS = {
    "cancel": (s.CANCEL, discord.ButtonStyle.secondary),
    "delete": (s.DELETE, discord.ButtonStyle.danger),
}


class JobButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"hh:(?P<action>cancel|delete):(?P<job>[0-9a-f]{6,32})",
):
    def __init__(self, action: str, job_id: str) -> None:
        label, style = ACTIONS[action]
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label, style=style, custom_id=f"hh:{action}:{job_id}"
        )
        super().__init__(button)
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> JobButton:
        return cls(match["action"], match["job"])

    async def callback(self, interaction: discord.Interaction[HHBot]) -> None:  # type: ignore[override]
        """Run the action; any failure ends in the error funnel (after the action's defer,
        the "thinking…" message becomes the error), never in discord.py's log alone."""
        actions = interaction.client.job_actions
        try:
            if self.action == "cancel":
                await actions.cancel(interaction, self.job_id)
            else:
                await actions.delete(interaction, self.job_id)
        except Exception as error:
            await report(interaction, error, fallback=s.BUTTON_FAILED)


def job_view(job_id: str, *, cancel: bool = False, delete: bool = False) -> discord.ui.View | None:
    if not (cancel or delete):
        return None
    view = discord.ui.View(timeout=None)
    for action, wanted in (("cancel", cancel), ("delete", delete)):
        if wanted:
            view.add_item(JobButton(action, job_id))
    return view
