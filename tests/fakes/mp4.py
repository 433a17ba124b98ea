"""A minimal, structurally valid MP4 built in code: ``ftyp`` + ``moov``/``mvhd`` + ``mdat``.

Not playable (no tracks), but every box is well-formed, so anything that checks the container
(``ftyp`` first, sizes adding up) accepts it. No ffmpeg needed.
"""

from __future__ import annotations

import struct


def box(kind: bytes, payload: bytes) -> bytes:
    """One ISO-BMFF box: 32-bit size, 4-byte type, payload."""
    assert len(kind) == 4
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def make_mp4(payload_size: int = 6000, *, duration_ms: int = 5000) -> bytes:
    """An MP4 of about ``payload_size`` + 150 bytes with a deterministic ``mdat`` payload."""
    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41")
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = box(
        b"mvhd",
        struct.pack(">B3xIIII", 0, 0, 0, 1000, duration_ms)  # version, flags, times, scale, dur
        + struct.pack(">IH10x", 0x10000, 0x100)  # rate 1.0, volume 1.0, reserved
        + matrix
        + bytes(24)  # pre_defined
        + struct.pack(">I", 2),  # next_track_ID
    )
    pattern = bytes(range(256))
    payload = (pattern * (payload_size // 256 + 1))[:payload_size]
    return ftyp + box(b"moov", mvhd) + box(b"mdat", payload)


def top_level_boxes(data: bytes) -> list[tuple[str, int]]:
    """``[(type, size), …]`` of the top-level boxes; raises ValueError if sizes do not add up."""
    boxes: list[tuple[str, int]] = []
    offset = 0
    while offset < len(data):
        if offset + 8 > len(data):
            raise ValueError("truncated box header")
        size = struct.unpack(">I", data[offset : offset + 4])[0]
        if size < 8 or offset + size > len(data):
            raise ValueError(f"bad box size {size} at {offset}")
        boxes.append((data[offset + 4 : offset + 8].decode("latin-1"), size))
        offset += size
    return boxes
