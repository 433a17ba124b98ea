"""The buttons on a job's messages, surviving restarts: one ``DynamicItem`` whose ``custom_id``
carries the action and the job id (``hh:<action>:<job>``), so a click after a restart finds
everything it needs in the store.

Cancel sits on a queued job's progress reply; a delivered result carries ``result_view``:
Retry, Remix, Continue, Parameters and Delete.
"""

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
    "retry": (s.RETRY, discord.ButtonStyle.primary),
    "remix": (s.REMIX, discord.ButtonStyle.secondary),
    "continue": (s.CONTINUE, discord.ButtonStyle.secondary),
    "params": (s.PARAMETERS, discord.ButtonStyle.secondary),
}
RESULT_ACTIONS = ("retry", "remix", "continue", "params", "delete")


class JobButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"hh:(?P<action>cancel|delete|retry|remix|continue|params):(?P<job>[0-9a-f]{6,32})",
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
        bot = interaction.client
        try:
            if self.action == "cancel":
                await bot.job_actions.cancel(interaction, self.job_id)
            elif self.action == "delete":
                await bot.job_actions.delete(interaction, self.job_id)
            else:
                await bot.iterate.click(interaction, self.action, self.job_id)
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


def result_view(job_id: str) -> discord.ui.View:
    """The buttons of a delivered result: Retry, Remix, Continue, Parameters, Delete."""
    view = discord.ui.View(timeout=None)
    for action in RESULT_ACTIONS:
        view.add_item(JobButton(action, job_id))
    return view
