"""Just enough of the MP4 box structure to read what the container *claims* its duration is.

ffmpeg measures duration from the sample tables; players and Discord show ``moov/mvhd``. The two
disagree when a muxer writes an absurd header, so the probe reports both. Reads a few headers
with seeks, never the media data; a short or malformed file yields ``None``, never an exception.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

MAX_BOXES = 1000
"""Boxes walked per level before giving up: a corrupt size cannot make this loop forever."""


def _boxes(f: BinaryIO, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload offset, box end) of each box between ``start`` and ``end``."""
    found: list[tuple[bytes, int, int]] = []
    pos = start
    while pos + 8 <= end and len(found) < MAX_BOXES:
        f.seek(pos)
        head = f.read(8)
        if len(head) < 8:
            break
        size, kind = struct.unpack(">I4s", head)
        payload = pos + 8
        if size == 1:
            large = f.read(8)
            if len(large) < 8:
                break
            size = struct.unpack(">Q", large)[0]
            payload = pos + 16
        elif size == 0:
            size = end - pos
        if size < payload - pos:
            break
        found.append((kind, payload, min(pos + size, end)))
        pos += size
    return found


def container_duration(path: Path) -> float | None:
    """Seconds in ``moov/mvhd`` (the container's claim), or ``None`` if it cannot be read."""
    try:
        with path.open("rb") as f:
            end = f.seek(0, 2)
            for kind, payload, box_end in _boxes(f, 0, end):
                if kind != b"moov":
                    continue
                for inner, inner_payload, _ in _boxes(f, payload, box_end):
                    if inner == b"mvhd":
                        return _mvhd_seconds(f, inner_payload)
    except (OSError, struct.error):
        return None
    return None


def _mvhd_seconds(f: BinaryIO, payload: int) -> float | None:
    f.seek(payload)
    version = f.read(4)[:1]
    if version == b"\x01":  # 64-bit creation/modification times and duration
        data = f.read(28)
        if len(data) < 28:
            return None
        timescale, duration = struct.unpack(">16xIQ", data)
    else:
        data = f.read(16)
        if len(data) < 16:
            return None
        timescale, duration = struct.unpack(">8xII", data)
    if timescale == 0:
        return None
    return float(duration) / float(timescale)
