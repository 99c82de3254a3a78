"""`GET /metrics/<metric>`: the course's V4 metrics as JSON, each computed by the SQL in `adapters/metrics.py`."""

from flask import Blueprint, Response
from marshmallow import Schema

from domain.metrics import TITLES, Metric
from entrypoints.http import json_response, new_uow, query
from entrypoints.openapi_schemas import METRIC_REPLIES
from entrypoints.schemas import BalancesSchema, MetricsSchema
from service_layer import views

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

{description}
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


def _route(metric: Metric) -> None:
    def view() -> Response:
        return json_response(views.metric(metric, query(schema_of(metric)), new_uow()))

    view.__name__ = str(metric)
    view.__doc__ = OPERATION.format(
        title=TITLES[metric],
        description=DESCRIPTIONS[metric],
        metric=metric,
        query=schema_of(metric).__name__,
        reply=METRIC_REPLIES[metric].__name__,
    )
    bp.add_url_rule(f"/{metric}", endpoint=str(metric), view_func=view, methods=["GET"])


for _metric in Metric:
    _route(_metric)
