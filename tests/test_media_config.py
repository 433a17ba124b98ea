"""The media keys: defaults, parsing, and one clear error per malformed key."""

from __future__ import annotations

import pytest

from hh_bot.config import ConfigError, MediaSettings, load_media_settings, load_settings

BASE = {"DISCORD_TOKEN": "x" * 10, "APIYI_API_KEY": "y" * 10}


def test_defaults() -> None:
    media = load_settings(BASE).media
    assert media == MediaSettings()
    assert (media.transcode_slots, media.transcode_timeout) == (1, 300.0)
    assert media.archive_dir == "data/videos" and media.archive_budget_bytes == 5 * 1024**3
    assert (media.transcode_niceness, media.transcode_idle) == (19, True)


def test_the_transcode_priority_is_read() -> None:
    env = BASE | {"TRANSCODE_NICENESS": "0", "TRANSCODE_IDLE": "off"}
    media = load_settings(env).media
    assert (media.transcode_niceness, media.transcode_idle) == (0, False)
    assert load_media_settings(env) == media  # what the benchmark reads


def test_values_are_read() -> None:
    env = BASE | {
        "TRANSCODE_SLOTS": "2",
        "TRANSCODE_TIMEOUT": "90",
        "ARCHIVE_DIR": "/srv/hh/videos",
        "ARCHIVE_BUDGET_GB": "0.5",
    }
    media = load_settings(env).media
    assert media == MediaSettings(2, 90.0, "/srv/hh/videos", 512 * 1024**2)


def test_zero_budget_keeps_no_originals() -> None:
    assert load_settings(BASE | {"ARCHIVE_BUDGET_GB": "0"}).media.archive_budget_bytes == 0


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("TRANSCODE_SLOTS", "0"),
        ("TRANSCODE_SLOTS", "two"),
        ("TRANSCODE_TIMEOUT", "5"),
        ("TRANSCODE_TIMEOUT", "inf"),
        ("ARCHIVE_BUDGET_GB", "-1"),
        ("ARCHIVE_BUDGET_GB", "nan"),
        ("TRANSCODE_NICENESS", "20"),
        ("TRANSCODE_NICENESS", "-1"),
        ("TRANSCODE_IDLE", "maybe"),
    ],
)
def test_malformed_keys_name_themselves(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(BASE | {key: value})
    assert str(caught.value).startswith(f"{key} is malformed")
