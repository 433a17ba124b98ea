"""The API's own timeouts are settings: parsed, refused by name when malformed, documented in
``.env.example`` with one comment each, and handed to the client by ``build_services``."""

from __future__ import annotations

from pathlib import Path

import pytest

from hh_bot.app import build_services
from hh_bot.config import ConfigError, load_settings

ENV = {"DISCORD_TOKEN": "t", "APIYI_API_KEY": "k"}
KEYS = ("API_CREATE_TIMEOUT", "API_POLL_TIMEOUT", "API_DOWNLOAD_STALL")
EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"


def test_defaults_are_seconds_not_minutes() -> None:
    s = load_settings(ENV)
    assert (s.api_create_timeout, s.api_poll_timeout, s.api_download_stall) == (30, 15, 30)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("value", ["0", "-1", "nan", "soon"])
def test_a_malformed_timeout_names_its_key(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({**ENV, key: value})
    assert str(info.value).startswith(key)


def test_each_timeout_is_documented_once_with_a_comment() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for key in KEYS:
        [at] = [i for i, line in enumerate(lines) if line.startswith(f"{key}=")]
        assert lines[at - 1].startswith("# ")


async def test_build_services_hands_the_timeouts_to_the_client(tmp_path: Path) -> None:
    settings = load_settings(
        {
            **ENV,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'hh.sqlite3'}",
            "API_CREATE_TIMEOUT": "12",
            "API_POLL_TIMEOUT": "7",
            "API_DOWNLOAD_STALL": "9",
        }
    )
    services = await build_services(settings, tmp_dir=tmp_path)
    try:
        api = services.api
        assert api._create_timeout.total == 12
        assert api._poll_timeout.total == 7
        assert api._download_timeout.sock_read == 9
        assert services.downloads is not None and api._downloads is services.downloads
        assert not api._links.local  # the production base URL: public https links only
    finally:
        await services.close()
