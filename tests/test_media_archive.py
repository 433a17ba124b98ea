"""The local archive of originals: atomic puts, oldest-first eviction at the budget, a full
disk as a typed error with nothing partial left, safe names only."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hh_bot.media import Archive, ArchiveError, LocalArchive, MediaCode, archive as archive_module
from tests.media_clips import tmp_root_fixture  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("tmp_root")


def ticks() -> Iterator[int]:
    n = 1_700_000_000 * 10**9
    while True:
        n += 10**9
        yield n


def make_archive(root: Path, budget: int) -> LocalArchive:
    clock = ticks()
    return LocalArchive(root, budget, clock_ns=lambda: next(clock))


def video(tmp_path: Path, name: str, size: int) -> Path:
    path = tmp_path / f"{name}.src"
    path.write_bytes(os.urandom(size))
    return path


def names(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


async def test_put_get_has_delete(tmp_path: Path) -> None:
    store: Archive = make_archive(tmp_path / "videos", 10_000)
    src = video(tmp_path, "a", 1000)
    stored = await store.put("job1", src)
    assert stored.size == 1000 and stored.path.read_bytes() == src.read_bytes()
    assert await store.has("job1") and not await store.has("job2")
    got = await store.get("job1")
    assert got is not None and got.path == stored.path and got.size == 1000
    assert await store.get("job2") is None
    assert await store.delete("job1") and not await store.delete("job1")
    assert names(tmp_path / "videos") == []


async def test_put_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    store = make_archive(tmp_path / "videos", 10_000)
    await store.put("job1", video(tmp_path, "a", 1000))
    second = video(tmp_path, "b", 500)
    await store.put("job1", second)
    got = await store.get("job1")
    assert got is not None and got.path.read_bytes() == second.read_bytes()
    assert names(tmp_path / "videos") == ["job1.mp4"]


async def test_evicts_oldest_first_at_its_budget(tmp_path: Path) -> None:
    store = make_archive(tmp_path / "videos", 3000)
    for job in ("j1", "j2", "j3"):
        await store.put(job, video(tmp_path, job, 1000))
    assert await store.total_bytes() == 3000  # exactly at the budget: nothing evicted
    await store.put("j4", video(tmp_path, "j4", 1000))
    assert names(tmp_path / "videos") == ["j2.mp4", "j3.mp4", "j4.mp4"]
    await store.put("j5", video(tmp_path, "j5", 2000))  # needs two places
    assert names(tmp_path / "videos") == ["j4.mp4", "j5.mp4"]
    assert await store.total_bytes() <= 3000


async def test_one_file_over_the_whole_budget_is_refused(tmp_path: Path) -> None:
    store = make_archive(tmp_path / "videos", 3000)
    await store.put("j1", video(tmp_path, "j1", 1000))
    with pytest.raises(ArchiveError) as caught:
        await store.put("big", video(tmp_path, "big", 3001))
    assert caught.value.code is MediaCode.OVER_BUDGET
    assert names(tmp_path / "videos") == ["j1.mp4"]


async def test_disk_full_is_a_typed_error_and_nothing_partial_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_archive(tmp_path / "videos", 100_000)
    await store.put("j1", video(tmp_path, "j1", 1000))

    def fills_the_disk(src: Path, fd: int) -> None:
        os.write(fd, src.read_bytes()[:500])  # half of it lands, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(archive_module, "_copy", fills_the_disk)
    with pytest.raises(ArchiveError) as caught:
        await store.put("j2", video(tmp_path, "j2", 1000))
    assert caught.value.code is MediaCode.DISK_FULL
    assert names(tmp_path / "videos") == ["j1.mp4"]  # the old entry is intact, no temporary
    assert not await store.has("j2")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
async def test_disk_full_on_a_real_device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_archive(tmp_path / "videos", 10 * 1024 * 1024)
    real_copy = archive_module._copy

    def onto_dev_full(src: Path, fd: int) -> None:
        full = os.open("/dev/full", os.O_WRONLY)
        try:
            real_copy(src, full)  # the kernel answers ENOSPC, as a full disk does
        finally:
            os.close(full)

    monkeypatch.setattr(archive_module, "_copy", onto_dev_full)
    with pytest.raises(ArchiveError) as caught:
        await store.put("j1", video(tmp_path, "j1", 2 * 1024 * 1024))
    assert caught.value.code is MediaCode.DISK_FULL
    assert names(tmp_path / "videos") == []


async def test_other_os_errors_are_io(tmp_path: Path) -> None:
    store = make_archive(tmp_path / "videos", 100_000)
    with pytest.raises(ArchiveError) as caught:
        await store.put("j1", tmp_path / "missing.src")
    assert caught.value.code is MediaCode.IO


@pytest.mark.parametrize("job_id", ["", "../etc", "a/b", ".hidden", "x" * 65, "a b"])
async def test_unsafe_ids_are_refused(tmp_path: Path, job_id: str) -> None:
    store = make_archive(tmp_path / "videos", 100_000)
    with pytest.raises(ArchiveError) as caught:
        await store.put(job_id, video(tmp_path, "a", 10))
    assert caught.value.code is MediaCode.BAD_ID


def test_budget_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        LocalArchive(tmp_path, 0)
