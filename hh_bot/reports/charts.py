"""Spend as a picture: a server's month stacked by its top spenders, and one member's month.

Input is plain data: ``(day, user_id, amount_milli)`` rows (the ledger summed however the caller
likes; several rows for one day and user add up). Every word on the chart comes from the
caller (``ChartText`` and the display ``names``), so the chart speaks the reader's language.
Amounts are drawn in whole currency units (milli ÷ 1000). A day-and-member net below zero (more
refunded than charged) is drawn as zero; rows outside the month are left out.

Rendering uses matplotlib's object API only: a ``matplotlib.figure.Figure`` on an explicit Agg
canvas, never ``pyplot`` and its global current figure, so renders may run in worker threads
(``render_async``). matplotlib is imported on first use; ``warm_up`` does that and draws one
tiny chart at start so the first real chart is not slow. For Chinese or Japanese names and
captions, install a CJK font (e.g. Noto Sans CJK): ``FONT_FAMILIES`` lists the ones used when
present, after DejaVu Sans.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import io
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, ParamSpec

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SpendRow = tuple[dt.date, int, int]
"""(UTC day, member id, amount in millidollars)."""

FONT_FAMILIES = (
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Noto Sans CJK JP",
    "Noto Sans CJK KR",
)
SERVER_SIZE = (1000, 500)
"""Pixels of the server chart."""
USER_SIZE = (600, 300)
"""Pixels of a member's own chart."""
DPI = 100
TOP_N = 8
NAME_CHARS = 24
LEGEND_PX = 190
LEGEND_PX_SMALL = 130
OTHERS_COLOUR = "#9e9e9e"
DAILY_LIMIT_COLOUR = "#d62728"
MONTH_COLOUR = "#222222"
MONTHLY_LIMIT_COLOUR = "#7b1fa2"

# matplotlib's object API keeps per-figure state, but its font and text caches are shared and
# not documented as thread-safe: renders take turns (each is a fraction of a second).
_render_lock = threading.Lock()

P = ParamSpec("P")
Stack = tuple[str, tuple[int, ...], str]
"""(legend label, value per day, colour)."""


@dataclass(frozen=True)
class ChartText:
    """The caller's words, already in the reader's language."""

    title: str
    x_label: str
    """Under the day numbers."""
    y_label: str
    """Beside the daily amounts (e.g. the currency)."""
    month_total: str
    """Legend for the running month total line (right-hand axis)."""
    daily_limit: str
    """Legend for the daily limit line."""
    monthly_limit: str
    """Legend for the monthly limit line."""
    others: str = ""
    """Legend for everyone outside the top N (server chart only)."""
    month_axis: str = ""
    """Beside the right-hand axis (the running total)."""


@dataclass(frozen=True)
class MonthSeries:
    """A month of spend, ready to draw: one value per day, in millidollars."""

    month: dt.date
    """The first day of the month."""
    users: tuple[int, ...]
    """The top spenders, biggest first."""
    per_user: tuple[tuple[int, ...], ...]
    """Per day, for each of ``users``."""
    others: tuple[int, ...]
    """Per day, everyone else together."""

    @property
    def days(self) -> int:
        return len(self.others)

    @property
    def daily_totals(self) -> tuple[int, ...]:
        return tuple(sum(col) for col in zip(self.others, *self.per_user, strict=True))

    @property
    def total(self) -> int:
        return sum(self.daily_totals)


def month_series(rows: Iterable[SpendRow], month: dt.date, top_n: int = TOP_N) -> MonthSeries:
    """Sum ``rows`` per day and member and split off the ``top_n`` biggest spenders."""
    first = month.replace(day=1)
    days = calendar.monthrange(first.year, first.month)[1]
    cells: defaultdict[int, list[int]] = defaultdict(lambda: [0] * days)
    for day, user_id, amount in rows:
        if day.year == first.year and day.month == first.month:
            cells[user_id][day.day - 1] += amount
    for values in cells.values():
        values[:] = [max(v, 0) for v in values]
    ranked = sorted(cells, key=lambda u: (-sum(cells[u]), u))
    top = [u for u in ranked[: max(top_n, 0)] if sum(cells[u]) > 0]
    others = [0] * days
    for user_id in ranked:
        if user_id not in top:
            others = [a + b for a, b in zip(others, cells[user_id], strict=True)]
    return MonthSeries(first, tuple(top), tuple(tuple(cells[u]) for u in top), tuple(others))


def server_month_png(
    rows: Iterable[SpendRow],
    *,
    month: dt.date,
    text: ChartText,
    names: Mapping[int, str],
    top_n: int = TOP_N,
    daily_limit_milli: int | None = None,
    monthly_limit_milli: int | None = None,
    size: tuple[int, int] = SERVER_SIZE,
) -> bytes:
    """The server's spend per day this month, stacked by its top ``top_n`` members (the rest
    together as ``text.others``), with the running total and the limits that are set. A member
    missing from ``names`` is shown by id."""
    series = month_series(rows, month, top_n)
    colours = _colours(len(series.users))
    stacks = [
        (_label(names.get(u, str(u))), values, colour)
        for u, values, colour in zip(series.users, series.per_user, colours, strict=True)
    ]
    if any(series.others):
        stacks.append((_label(text.others), series.others, OTHERS_COLOUR))
    return _render(series, stacks, text, daily_limit_milli, monthly_limit_milli, size, small=False)


def user_month_png(
    rows: Iterable[SpendRow],
    *,
    month: dt.date,
    text: ChartText,
    daily_limit_milli: int | None = None,
    monthly_limit_milli: int | None = None,
    size: tuple[int, int] = USER_SIZE,
) -> bytes:
    """One member's month (every row given counts, whatever its member id): spend per day,
    the running total and their limits, small enough for an ephemeral reply."""
    series = month_series(((d, 0, a) for d, _, a in rows), month, top_n=1)
    stacks = [("", series.daily_totals, _colours(1)[0])]
    return _render(series, stacks, text, daily_limit_milli, monthly_limit_milli, size, small=True)


async def render_async(render: Callable[P, bytes], /, *args: P.args, **kwargs: P.kwargs) -> bytes:
    """Run one of the renderers above in a worker thread, off the event loop."""
    return await asyncio.to_thread(render, *args, **kwargs)


def warm_up() -> None:
    """Import matplotlib, load its fonts and draw a tiny chart once (call at start)."""
    blank = ChartText("", "", "", "", "", "")
    server_month_png([], month=dt.date(2000, 1, 1), text=blank, names={}, size=(160, 90))


# -- drawing -------------------------------------------------------------------------------


def _label(text: str) -> str:
    """Caller text made safe for matplotlib: ``$`` would start mathtext; long names cut."""
    if len(text) > NAME_CHARS:
        text = text[: NAME_CHARS - 1] + "…"
    return text.replace("$", r"\$")


@lru_cache(maxsize=1)
def _families() -> tuple[str, ...]:
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return tuple(f for f in FONT_FAMILIES if f in installed) or ("sans-serif",)


def _colours(n: int) -> list[str]:
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    # The qualitative palettes without their greys, which belong to "others".
    if n <= 9:
        palette = [to_hex(colormaps["tab10"](i)) for i in range(10) if i != 7]
    else:
        palette = [to_hex(colormaps["tab20"](i)) for i in range(20) if i not in (14, 15)]
    return [palette[i % len(palette)] for i in range(n)]


def _render(
    series: MonthSeries,
    stacks: list[Stack],
    text: ChartText,
    daily_limit: int | None,
    monthly_limit: int | None,
    size: tuple[int, int],
    *,
    small: bool,
) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with _render_lock:
        fig = Figure(figsize=(size[0] / DPI, size[1] / DPI), dpi=DPI)
        FigureCanvasAgg(fig)
        _draw(fig, series, stacks, text, daily_limit, monthly_limit, small)
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=DPI)
        return out.getvalue()


def _draw(
    fig: Figure,
    series: MonthSeries,
    stacks: list[Stack],
    text: ChartText,
    daily_limit: int | None,
    monthly_limit: int | None,
    small: bool,
) -> None:
    from matplotlib.collections import PolyCollection

    family = list(_families())
    size = 7 if small else 8
    # Fixed margins (in pixels) instead of a layout engine, which would measure every text twice.
    width, height = fig.get_size_inches() * fig.dpi
    legend_px = (LEGEND_PX_SMALL if small else LEGEND_PX) if _has_legend(stacks, text) else 0
    left, bottom_margin = min(60 / width, 0.3), min(45 / height, 0.3)
    right = max(1 - (legend_px + 55) / width, left + 0.1)
    top_margin = max(1 - 30 / height, bottom_margin + 0.1)
    fig.subplots_adjust(left=left, right=right, bottom=bottom_margin, top=top_margin)
    ax: Axes = fig.add_subplot()
    days = list(range(1, series.days + 1))
    # One collection per stack layer rather than one patch per bar: a tenth of the drawing cost.
    bottom = [0.0] * series.days
    for label, values, colour in stacks:
        tops = [b + v / 1000 for b, v in zip(bottom, values, strict=True)]
        boxes = [
            [(d - 0.4, b), (d - 0.4, t), (d + 0.4, t), (d + 0.4, b)]
            for d, b, t in zip(days, bottom, tops, strict=True)
            if t > b
        ]
        layer = PolyCollection(boxes, facecolors=colour, edgecolors="none", label=label or "_")
        ax.add_collection(layer, autolim=False)
        bottom = tops
    top = max([*bottom, 0.0])
    if daily_limit is not None:
        ax.axhline(
            daily_limit / 1000, color=DAILY_LIMIT_COLOUR, linestyle="--", linewidth=1.2,
            label=_label(text.daily_limit),
        )  # fmt: skip
        top = max(top, daily_limit / 1000)
    ax.set_ylim(0, top * 1.15 if top > 0 else 1.0)
    ax.set_xlim(0.4, series.days + 0.6)
    # Labelled ticks on day 1 and every fifth day: each tick is costly to lay out and draw.
    ax.set_xticks([d for d in days if d == 1 or d % 5 == 0])
    ax.tick_params(labelsize=size)
    ax.set_title(_label_long(text.title), fontsize=size + 3, fontfamily=family)
    ax.set_xlabel(_label_long(text.x_label), fontsize=size + 1, fontfamily=family)
    ax.set_ylabel(_label_long(text.y_label), fontsize=size + 1, fontfamily=family)
    ax.grid(axis="y", linewidth=0.4, alpha=0.5)
    ax.set_axisbelow(True)

    running = ax.twinx()
    total = 0.0
    cumulative = []
    for value in series.daily_totals:
        total += value / 1000
        cumulative.append(total)
    running.plot(days, cumulative, color=MONTH_COLOUR, linewidth=1.4, marker="o",
                 markersize=2 if small else 3, label=_label(text.month_total))  # fmt: skip
    right_top = total
    if monthly_limit is not None:
        running.axhline(
            monthly_limit / 1000, color=MONTHLY_LIMIT_COLOUR, linestyle=":", linewidth=1.4,
            label=_label(text.monthly_limit),
        )  # fmt: skip
        right_top = max(right_top, monthly_limit / 1000)
    # A little more headroom than the left axis so the two limit lines do not sit on each other.
    running.set_ylim(0, right_top * 1.3 if right_top > 0 else 1.0)
    running.tick_params(labelsize=size)
    if text.month_axis:
        running.set_ylabel(_label_long(text.month_axis), fontsize=size + 1, fontfamily=family)

    handles, labels = ax.get_legend_handles_labels()
    more_handles, more_labels = running.get_legend_handles_labels()
    shown = [
        (h, lab) for h, lab in zip([*handles, *more_handles], [*labels, *more_labels], strict=True)
        if lab and not lab.startswith("_")
    ]  # fmt: skip
    if shown:
        fig.legend(
            [h for h, _ in shown], [lab for _, lab in shown], loc="upper left",
            bbox_to_anchor=(1 - (legend_px - 5) / width, 1 - 25 / height),
            prop={"family": family, "size": size}, frameon=False,
        )  # fmt: skip


def _has_legend(stacks: list[Stack], text: ChartText) -> bool:
    labels = [label for label, _, _ in stacks]
    return any([*labels, text.month_total, text.daily_limit, text.monthly_limit])


def _label_long(text: str) -> str:
    return text.replace("$", r"\$")
