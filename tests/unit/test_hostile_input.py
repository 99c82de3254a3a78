"""Hostile input without a database: the metrics' whole units at the ends of time, the positions a page token may
hold, and the secret that signs page tokens as configuration gives it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.metrics import whole
from cauldrons.config import DEV_API_KEY, Config, ConfigError
from domain.metrics import MetricsQuery
from domain.sales import BIGINT_MAX, BIGINT_MIN, Position

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
EDGES = [
    datetime.min,
    datetime.min + timedelta(microseconds=1),
    datetime(1, 1, 1, 23, 59, 59),
    datetime(2026, 5, 1, 12),
    datetime(2026, 5, 1, 12, 0, 0, 1),
    datetime(9999, 12, 31),
    datetime(9999, 12, 31, 23),
    datetime(9999, 12, 31, 23, 30),
    datetime.max - timedelta(microseconds=1),
    datetime.max,
]
moments = st.one_of(st.sampled_from(EDGES), st.datetimes())


def floor(moment: datetime, unit: timedelta) -> datetime:
    return datetime.min + (moment - datetime.min) // unit * unit


@given(since=st.none() | moments, until=st.none() | moments, row=moments, unit=st.sampled_from([HOUR, DAY]))
def test_every_row_in_the_range_is_counted_once_whatever_the_range(since, until, row, unit):
    """A row is counted by the rollup when its unit lies in [start, end), or read as it is at the edges when it lies
    in [since, until] outside [start, end): once if it is in the range, never if not, at the ends of time too."""
    start, end = whole(MetricsQuery(since=since, until=until), unit)
    in_range = (since is None or since <= row) and (until is None or row <= until)
    rolled = start <= floor(row, unit) < end
    at_an_edge = in_range and (row < start or row >= end)
    assert rolled + at_an_edge == in_range


@pytest.mark.parametrize("unit", [HOUR, DAY])
def test_the_ends_of_time_are_whole_units_or_edges_never_an_overflow(unit):
    assert whole(MetricsQuery(since=datetime.min, until=datetime.max), unit) == (
        datetime.min,
        floor(datetime.max, unit),
    )
    assert whole(MetricsQuery(since=datetime(9999, 12, 31, 23, 30)), unit)[0] == datetime.max


@pytest.mark.parametrize(
    ("value", "line_id"),
    [
        (1, BIGINT_MAX),
        (1, BIGINT_MIN),
        (BIGINT_MAX + 1, 1),
        (BIGINT_MIN - 1, 1),
        ("a\x00", 1),
        ("\ud800", 1),
        ("x\udfff", 1),
        (datetime.fromisoformat("2026-01-01T00:00:00+00:00"), 1),
    ],
)
def test_a_position_no_sale_line_could_have_is_refused(value, line_id):
    with pytest.raises(ValueError):
        Position(value, line_id).check()


@pytest.mark.parametrize(
    ("value", "line_id"),
    [(BIGINT_MAX, BIGINT_MAX - 1), (BIGINT_MIN, BIGINT_MIN + 1), ("", 0), (datetime.min, 1), (datetime.max, 1)],
)
def test_a_position_at_the_ends_of_the_columns_is_taken(value, line_id):
    Position(value, line_id).check()


@pytest.fixture
def environment(monkeypatch):
    for name in ("API_KEY", "DATABASE_URL", "CORS_ORIGINS", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_without_secret_key_the_shop_keeps_its_own_secret(environment):
    assert Config.from_env("127.0.0.1").secret_key is None
    environment.setenv("SECRET_KEY", "")
    assert Config.from_env("127.0.0.1").secret_key is None


def test_secret_key_is_read_from_the_environment(environment):
    environment.setenv("SECRET_KEY", "s3cret")
    assert Config.from_env("127.0.0.1").secret_key == "s3cret"


@pytest.mark.parametrize("api_key", [None, "the-key"])
def test_secret_key_must_not_be_the_api_key(environment, api_key):
    if api_key:
        environment.setenv("API_KEY", api_key)
    environment.setenv("SECRET_KEY", api_key or DEV_API_KEY)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Config.from_env("127.0.0.1")
