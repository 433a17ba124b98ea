"""Settings from the environment: one clear error per bad key, sane defaults, hidden secrets."""

from __future__ import annotations

import pytest

from hh_bot.config import ConfigError, Defaults, Limits, Secret, Settings, load_settings

TOKEN = "discord-token-SENTINEL-7f3a9c"
API_KEY = "sk-apiyi-SENTINEL-42e8b1"
REQUIRED = {"DISCORD_TOKEN": TOKEN, "APIYI_API_KEY": API_KEY}


def env(**extra: str) -> dict[str, str]:
    return {**REQUIRED, **extra}


def config_error(values: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(values)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("key", sorted(REQUIRED))
@pytest.mark.parametrize("blank", [None, "", "   "])
def test_missing_required_key_is_named(key: str, blank: str | None) -> None:
    values = dict(REQUIRED)
    if blank is None:
        del values[key]
    else:
        values[key] = blank
    message = config_error(values)
    assert key in message
    other = next(k for k in REQUIRED if k != key)
    assert other not in message


def test_nothing_set_names_a_required_key() -> None:
    message = config_error({})
    assert any(key in message for key in REQUIRED)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("DEFAULT_DURATION", "99"),
        ("DEFAULT_DURATION", "1"),
        ("DEFAULT_DURATION", "five"),
        ("DEFAULT_RESOLUTION", "4K"),
        ("DEFAULT_RATIO", "21:9"),
        ("DEFAULT_WATERMARK", "maybe"),
        ("POLL_INTERVAL", "1"),
        ("POLL_INTERVAL", "nan"),
        ("POLL_INTERVAL", "inf"),
        ("POLL_FIRST_DELAY", "0"),
        ("POLL_DEADLINE", "10"),
        ("PROGRESS_EDIT_INTERVAL", "0.1"),
        ("GLOBAL_ACTIVE_TASKS", "0"),
        ("GLOBAL_ACTIVE_TASKS", "many"),
        ("MAX_CONCURRENT_PER_USER", "-1"),
        ("COOLDOWN_SECONDS", "-5"),
        ("DEV_GUILD_ID", "abc"),
        ("DEV_GUILD_ID", "-3"),
        ("ADMIN_ROLE_ID", "12.5"),
        ("DATABASE_URL", "mysql://user:pw@db/hh"),
        ("DATABASE_URL", "sqlite:///"),
        ("DATABASE_URL", "postgresql://user:pw@db:port/hh"),
        ("DATABASE_URL", "data/hh.sqlite3"),
        ("USER_DAILY_LIMIT_USD", "-1"),
        ("USER_DAILY_LIMIT_USD", "lots"),
        ("USER_DAILY_LIMIT_USD", "inf"),
        ("GUILD_MONTHLY_LIMIT_USD", "nan"),
        ("PRICE_720P_USD", "-0.1"),
        ("APIYI_BASE_URL", "ftp://api.apiyi.com"),
        ("MAX_VIDEO_MB", "0"),
        ("LOG_LEVEL", "loud"),
    ],
)
def test_malformed_value_names_the_key(key: str, value: str) -> None:
    message = config_error(env(**{key: value}))
    assert key in message


@pytest.mark.parametrize(
    "url", ["postgresql://hh:pw@db:5432/hh", "postgres://db/hh?sslmode=require", "sqlite:///x.db"]
)
def test_database_urls_of_both_backends_are_accepted(url: str) -> None:
    assert load_settings(env(DATABASE_URL=url)).database_url == url


def test_database_url_error_does_not_echo_the_password() -> None:
    message = config_error(env(DATABASE_URL="mysql://hh:hunter2@db/hh"))
    assert "hunter2" not in message
    assert "postgresql://" in message  # says what is expected


def test_malformed_value_is_not_echoed() -> None:
    message = config_error(env(DEV_GUILD_ID="secret-looking-value"))
    assert "secret-looking-value" not in message


def test_defaults() -> None:
    settings = load_settings(env())
    assert settings.discord_token.reveal() == TOKEN
    assert settings.apiyi_api_key.reveal() == API_KEY
    assert settings.apiyi_base_url == "https://api.apiyi.com"
    assert settings.model == "happyhorse-1.0-r2v"
    assert settings.sqlite_path == "data/hh-bot.sqlite3"
    assert settings.defaults == Defaults()
    assert settings.defaults.resolution == "720P"
    assert settings.defaults.duration == 5
    assert settings.limits == Limits()
    assert settings.price_per_second("720P") == 126
    assert settings.price_per_second("1080P") == 224
    assert settings.poll_interval >= 3
    assert settings.dev_guild_id is None
    assert settings.admin_role_id is None
    assert settings.log_level == "INFO"


def test_values_are_parsed() -> None:
    settings = load_settings(
        env(
            APIYI_BASE_URL="https://gw.example.com/",
            DATABASE_URL="sqlite:///tmp/x.sqlite3",
            DEFAULT_RESOLUTION="1080p",
            DEFAULT_DURATION="15",
            DEFAULT_RATIO="9:16",
            DEFAULT_WATERMARK="yes",
            DEFAULT_PROMPT_EXTEND="off",
            USER_DAILY_LIMIT_USD="1.5",
            PRICE_1080P_USD="0.3",
            GLOBAL_ACTIVE_TASKS="3",
            COOLDOWN_SECONDS="30",
            POLL_INTERVAL="3",
            MAX_VIDEO_MB="25",
            DEV_GUILD_ID="123456789012345678",
            LOG_LEVEL="debug",
        )
    )
    assert settings.apiyi_base_url == "https://gw.example.com"
    assert settings.sqlite_path == "tmp/x.sqlite3"
    assert settings.defaults == Defaults("1080P", 15, "9:16", True, False)
    assert settings.limits.user_daily == 1500
    assert settings.price_per_second("1080P") == 300
    assert settings.limits.global_active_cap == 3
    assert settings.limits.cooldown_seconds == 30.0
    assert settings.poll_interval == 3.0
    assert settings.max_video_bytes == 25 * 1024 * 1024
    assert settings.dev_guild_id == 123456789012345678
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize("word", ["none", "None", "unlimited", "off"])
def test_none_means_unlimited(word: str) -> None:
    settings = load_settings(
        env(USER_DAILY_LIMIT_USD=word, USER_MONTHLY_LIMIT_USD=word, GUILD_DAILY_LIMIT_USD=word)
    )
    assert settings.limits.user_daily is None
    assert settings.limits.user_monthly is None
    assert settings.limits.guild_daily is None


def test_zero_limit_is_a_limit_not_unlimited() -> None:
    assert load_settings(env(USER_DAILY_LIMIT_USD="0")).limits.user_daily == 0


def test_secrets_never_shown() -> None:
    settings = load_settings(env())
    for text in (repr(settings), str(settings), f"{settings}", f"{settings!r}"):
        assert TOKEN not in text
        assert API_KEY not in text
    for secret in (settings.discord_token, settings.apiyi_api_key):
        assert secret.reveal() not in repr(secret)
        assert secret.reveal() not in f"{secret}"


def test_secrets_not_in_errors_about_other_keys() -> None:
    message = config_error(env(LOG_LEVEL="loud"))
    assert TOKEN not in message
    assert API_KEY not in message


def test_secret_equality() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Settings(Secret("a"), Secret("b")) == Settings(Secret("a"), Secret("b"))


def test_default_duration_accepts_the_gateways_range() -> None:
    """APIYI documents 2–15 s for this model; 2 is a valid default (the API's own refusal, if
    any, reaches the user with its reason)."""
    assert load_settings(env(DEFAULT_DURATION="2")).defaults.duration == 2
    assert "2..15" in config_error(env(DEFAULT_DURATION="16"))


def test_discord_timeout_is_short_and_configurable() -> None:
    assert load_settings(env()).discord_timeout == 15.0  # not discord.py's 300 s
    assert load_settings(env(DISCORD_TIMEOUT="4.5")).discord_timeout == 4.5
    for bad in ("0.5", "nan", "soon"):
        assert "DISCORD_TIMEOUT" in config_error(env(DISCORD_TIMEOUT=bad))


def test_moderation_cooldowns_ladder() -> None:
    import datetime as dt

    assert load_settings(env()).limits.moderation_cooldowns == (
        dt.timedelta(0), dt.timedelta(hours=1), dt.timedelta(hours=2), dt.timedelta(hours=10),
    )  # fmt: skip
    custom = load_settings(env(MODERATION_COOLDOWNS="0, 30m, 90s")).limits
    assert custom.moderation_cooldowns == (
        dt.timedelta(0), dt.timedelta(minutes=30), dt.timedelta(seconds=90),
    )  # fmt: skip
    for bad in ("1h,-2h", "ten hours", ",", "1d"):
        assert "MODERATION_COOLDOWNS" in config_error(env(MODERATION_COOLDOWNS=bad))
