"""Media core: probing, fitting to a byte limit, still frames, the archive of originals.

No Discord here. ffmpeg is the binary from the ``imageio-ffmpeg`` wheel, run by ``FFmpeg``.
"""

from hh_bot.media.archive import Archive, Archived, LocalArchive
from hh_bot.media.errors import (
    ArchiveError,
    FFmpegError,
    FitError,
    FrameError,
    MediaCode,
    MediaError,
    ProbeError,
)
from hh_bot.media.ffmpeg import FFmpeg, ffmpeg_exe
from hh_bot.media.fit import FitPlan, Fitted, Fitter, plan_fit, target_bytes
from hh_bot.media.frames import last_frame, poster_frame, poster_preview
from hh_bot.media.probe import MediaInfo, probe

__all__ = [
    "Archive",
    "ArchiveError",
    "Archived",
    "FFmpeg",
    "FFmpegError",
    "FitError",
    "FitPlan",
    "Fitted",
    "Fitter",
    "FrameError",
    "LocalArchive",
    "MediaCode",
    "MediaError",
    "MediaInfo",
    "ProbeError",
    "ffmpeg_exe",
    "last_frame",
    "plan_fit",
    "poster_frame",
    "poster_preview",
    "probe",
    "target_bytes",
]
