"""`GET /metrics/<metric>`: the course's V4 metrics as JSON, each computed by the SQL in `adapters/metrics.py`.

The dashboard's tabs ask for every metric every few seconds, and what they ask must never slow the exchange's
routes. So in each worker (per app) a metric's reply is kept for `FRESH_SECONDS`, keyed by the metric and its
query, and answered again, as it was, to whoever asks within that time; and a worker runs one metric query at a time
(a semaphore: gevent's under gunicorn, which patches `threading`), so the metrics hold at most one of its database
connections. A request for a reply being computed waits for it rather than computing it again. However many tabs
are open, the database computes each metric (for one query string) at most once per `FRESH_SECONDS` per worker.

`FRESH_SECONDS` (the app's `metrics_fresh_seconds`) is the dashboard's refresh period, 5 s by default, so a reply is
at most that old; why: docs/decisions/dashboard.md.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app
from marshmallow import Schema

from domain.metrics import TITLES, Metric, MetricsQuery
from entrypoints.http import new_uow, query
from entrypoints.openapi_schemas import METRIC_REPLIES
from entrypoints.schemas import BalancesSchema, MetricsSchema
from service_layer import views
from service_layer.idempotency import JSON, encode

FRESH_SECONDS = 5.0  # how long a worker answers a metric's reply again before asking the database anew
MAX_KEPT = 256  # replies kept at most per worker (the oldest dropped first)
EXTENSION = "cauldrons.metric_replies"

bp = Blueprint("metrics", __name__, url_prefix="/metrics")

DESCRIPTIONS = {
    Metric.SALES_BY_HOUR: "Potions sold and gold taken per game day, hour and potion (lines sold before the game's "
    "first tick have no game time and are left out).",
    Metric.BARREL_OFFERS: "Every barrel type the exchange offered to `/barrels/plan`, per game day and hour: its "
    "liquid, size, how often, price range, barrels on offer and gold per ml.",
    Metric.BUYERS: "Potions bought, gold paid and the checkouts that bought them, per class, species, level and "
    "potion.",
    Metric.CONVERSION: "Customers who visited against carts checked out, per game day and hour.",
    Metric.BALANCES: "Each shop account's balance at the end of a game tick, for at most `points` ticks in "
    "[since, until] evenly spread, and the last.",
    Metric.PROFIT: "Per game day: gold from sales, spent on barrels and on capacity, and revenue minus both.",
}
OPERATION = """{title}.

{description} A reply may be up to {fresh:g} s old (each worker keeps it that long).
---
get:
  operationId: metric_{metric}
  tags: [metrics]
  parameters:
    - in: query
      schema: {query}
  responses:
    200:
      description: the metric's rows
      content:
        application/json:
          schema: {reply}
    503: Unavailable
"""


def schema_of(metric: Metric) -> type[Schema]:
    """The query string a metric takes: the balances have no game day or hour, but a number of points."""
    return BalancesSchema if metric is Metric.BALANCES else MetricsSchema


class Replies:
    """Each metric's reply (its JSON body) for `fresh` seconds after it was asked of the database, at most
    `kept` of them, the queries behind them run one at a time."""

    def __init__(self, fresh: float = FRESH_SECONDS, kept: int = MAX_KEPT, clock: Callable[[], float] = time.monotonic):
        self.fresh, self.kept, self.clock = fresh, kept, clock
        self.one_query = threading.Semaphore(1)
        self.bodies: dict[tuple[Metric, MetricsQuery], tuple[float, bytes]] = {}  # key -> (asked at, body)
        self.queries = 0  # how many were asked of the database (for the tests)

    def _fresh(self, key: tuple[Metric, MetricsQuery]) -> bytes | None:
        kept = self.bodies.get(key)
        return kept[1] if kept is not None and self.clock() - kept[0] < self.fresh else None

    def body(self, key: tuple[Metric, MetricsQuery], compute: Callable[[], Any]) -> bytes:
        """The kept body for `key` while fresh, else `compute()`'s, encoded, kept and returned."""
        found = self._fresh(key)
        if found is not None:
            return found
        with self.one_query:
            found = self._fresh(key)  # asked by another request while this one waited
            if found is not None:
                return found
            asked = self.clock()
            body = encode(compute())
            self.queries += 1
            self.bodies = {k: v for k, v in self.bodies.items() if asked - v[0] < self.fresh}
            if len(self.bodies) >= self.kept:
                del self.bodies[min(self.bodies, key=lambda k: self.bodies[k][0])]
            self.bodies[key] = (asked, body)
        return body


def replies_of(app: Flask) -> Replies:
    """The app's kept replies in this process (made by `create_app`)."""
    return app.extensions[EXTENSION]  # type: ignore[no-any-return]


def _route(metric: Metric) -> None:
    def view() -> Response:
        wanted = query(schema_of(metric))
        body = replies_of(current_app).body((metric, wanted), lambda: views.metric(metric, wanted, new_uow()))
        return Response(body, content_type=JSON)

    view.__name__ = str(metric)
    view.__doc__ = OPERATION.format(
        title=TITLES[metric],
        description=DESCRIPTIONS[metric],
        metric=metric,
        query=schema_of(metric).__name__,
        reply=METRIC_REPLIES[metric].__name__,
        fresh=FRESH_SECONDS,
    )
    bp.add_url_rule(f"/{metric}", endpoint=str(metric), view_func=view, methods=["GET"])


for _metric in Metric:
    _route(_metric)
