"""Text the exchange controls is data, never markup, on both backends: after a game whose every day name, customer
name, class, species and barrel sku is hostile (`tests/hostile_game.py`: mathtext matplotlib cannot parse, HTML and
script, entities, quotes, markdown), played through the routes without one refusal or 5xx, every metric answers
200 with that text as it was sent, and every chart still draws it (as text: mathtext is off)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.metrics import TITLES, Metric
from entrypoints.charts import render, shape
from tests.hostile_game import DAYS, PAYLOADS, play_hostile
from tests.routes.shop_client import ShopClient

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def shop(client) -> ShopClient:  # type: ignore[no-untyped-def]
    return ShopClient(client)


def send(shop: ShopClient) -> Any:
    def post(path: str, body: Any) -> tuple[int, Any]:
        answer = shop.post(path, body)
        return answer.status_code, answer.json if answer.data else None

    return post


def test_hostile_text_is_answered_as_sent_and_drawn_on_every_chart(shop: ShopClient):
    play_hostile(send(shop))
    rows = {}
    for metric in Metric:
        answer = shop.get(f"/metrics/{metric}")
        assert answer.status_code == 200, (metric, answer.data[:300])
        rows[metric] = answer.json["rows"]
        assert rows[metric], metric
    for metric in (Metric.SALES_BY_HOUR, Metric.BARREL_OFFERS, Metric.CONVERSION, Metric.BALANCES):
        assert {r["day"] for r in rows[metric]} == set(DAYS), metric
    assert [r["day"] for r in rows[Metric.PROFIT]] == sorted(DAYS)  # names no week has sort by name
    buyers = rows[Metric.BUYERS]
    assert {r["class"] for r in buyers} == {r["species"] for r in buyers} == set(PAYLOADS)
    assert {r["sku"].rsplit("#", 1)[0] for r in rows[Metric.BARREL_OFFERS]} == set(PAYLOADS)
    for metric in Metric:
        chart = shape(metric, rows[metric])
        assert chart.marks > 0, metric
        assert render(metric, TITLES[metric], rows[metric]).startswith(PNG), metric
    pairs = {f"{PAYLOADS[i]} / {PAYLOADS[(i + 1) % len(PAYLOADS)]}" for i in range(len(PAYLOADS))}
    assert set(shape(Metric.BUYERS, buyers).x) == pairs  # each customer's class / species, as sent


def test_the_filters_take_a_hostile_day_as_a_name(shop: ShopClient):
    play_hostile(send(shop))
    for day in DAYS:
        for metric in (Metric.SALES_BY_HOUR, Metric.CONVERSION, Metric.PROFIT, Metric.BUYERS):
            answer = shop.client.get(
                f"/metrics/{metric}", query_string={"day": day}, headers={"access_token": shop.api_key}
            )
            assert answer.status_code == 200 and answer.json["rows"], (metric, day)
            if metric is not Metric.BUYERS:
                assert {r["day"] for r in answer.json["rows"]} == {day}
