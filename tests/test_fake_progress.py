"""The fake's progress follows the API spec, not a clock of the run: upstream reports 0 while a
task is queued, 10 while it starts, then 30 for the rest of the run however long, then 100.
Progress must not tell a poller how far along a task is (the real API doesn't)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from hh_bot.clock import ScaledClock
from tests.fakes.happyhorse import (
    CREATE_PATH,
    QUEUED_SECONDS,
    STARTING_SECONDS,
    FakeHappyHorse,
    TaskScript,
)
from tests.test_fake_happyhorse import AUTH, BODY, KEY

World = tuple[ScaledClock, FakeHappyHorse, aiohttp.ClientSession]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    # Real time barely counts (a loaded machine adds seconds of it): time moves on advance().
    clock = ScaledClock(factor=1e-9)
    fake = FakeHappyHorse(api_key=KEY, clock=clock)
    await fake.start()
    async with aiohttp.ClientSession() as http:
        yield clock, fake, http
    await fake.close()


async def phases(world: World, duration: float) -> list[tuple[float, str, int]]:
    """(age, status, progress) of a task of ``duration`` seconds, on the wire: every second
    of its first 30 and its last 2, every 10 s in between."""
    clock, fake, http = world
    fake.scripts.append(TaskScript(duration=duration))
    async with http.post(fake.base_url + CREATE_PATH, json=BODY, headers=AUTH) as resp:
        task_id = (await resp.json())["output"]["task_id"]
    seen: list[tuple[float, str, int]] = []
    headers = {"Authorization": f"Bearer {KEY}"}
    end = int(duration)
    ages = sorted({*range(31), *range(30, end, 10), end - 1, end, end + 1})
    for before, age in zip([0, *ages], ages, strict=False):
        clock.advance(float(age - before))
        async with http.get(f"{fake.base_url}/v1/tasks/{task_id}", headers=headers) as resp:
            body = await resp.json()
        seen.append((float(age), body["status"], body["progress"]))
    return seen


def changes(seen: list[tuple[float, str, int]]) -> list[tuple[float, str, int]]:
    return [s for i, s in enumerate(seen) if i == 0 or s[1:] != seen[i - 1][1:]]


@pytest.mark.parametrize("duration", [120.0, 300.0, 900.0])
async def test_progress_sits_at_thirty_for_most_of_the_run(world: World, duration: float) -> None:
    assert changes(await phases(world, duration)) == [
        (0.0, "submitted", 0),
        (QUEUED_SECONDS, "in_progress", 10),
        (STARTING_SECONDS, "in_progress", 30),
        (duration, "completed", 100),
    ]


async def test_a_short_task_still_goes_through_every_phase(world: World) -> None:
    assert [s[1:] for s in changes(await phases(world, 20.0))] == [
        ("submitted", 0),
        ("in_progress", 10),
        ("in_progress", 30),
        ("completed", 100),
    ]
