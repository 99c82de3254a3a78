"""Configuration from the environment: the one place that reads it."""

import pytest

from cauldrons.config import DEFAULT_DATABASE_URL, DEV_API_KEY, EXCHANGE_ORIGIN, Config, ConfigError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("API_KEY", "DATABASE_URL", "CORS_ORIGINS", "WRITE_SLOTS"):
        monkeypatch.delenv(name, raising=False)


def test_a_loopback_server_without_settings_gets_the_defaults():
    config = Config.from_env("127.0.0.1")
    assert (config.database_url, config.api_key, config.cors_origins) == (
        DEFAULT_DATABASE_URL,
        DEV_API_KEY,
        (EXCHANGE_ORIGIN,),
    )


def test_serving_beyond_loopback_needs_an_api_key():
    with pytest.raises(ConfigError, match="API_KEY"):
        Config.from_env("0.0.0.0")


@pytest.mark.parametrize(
    "value, origins",
    [
        ("https://a.example, https://b.example ,", ("https://a.example", "https://b.example")),
        ("", ()),
    ],
)
def test_cors_origins_are_a_comma_separated_list_and_empty_grants_none(monkeypatch, value, origins):
    monkeypatch.setenv("CORS_ORIGINS", value)
    assert Config.from_env("127.0.0.1").cors_origins == origins


def test_write_slots_default_to_four_and_must_be_a_whole_number_from_1_to_100(monkeypatch):
    assert Config.from_env("127.0.0.1").write_slots == 4
    monkeypatch.setenv("WRITE_SLOTS", "8")
    assert Config.from_env("127.0.0.1").write_slots == 8
    for bad in ("0", "101", "-1", "2.5", "two", "²"):
        monkeypatch.setenv("WRITE_SLOTS", bad)
        with pytest.raises(ConfigError, match="WRITE_SLOTS"):
            Config.from_env("127.0.0.1")
