"""`GET /metrics/<metric>`: the course's V4 metrics as JSON, each computed by the SQL in `adapters/metrics.py`."""

from flask import Blueprint, Response
from marshmallow import Schema

from domain.metrics import Metric
from entrypoints.http import json_response, new_uow, query
from entrypoints.schemas import BalancesSchema, MetricsSchema
from service_layer import views

bp = Blueprint("metrics", __name__, url_prefix="/metrics")


def schema_of(metric: Metric) -> type[Schema]:
    """The query string a metric takes: the balances have no game day or hour, but a number of points."""
    return BalancesSchema if metric is Metric.BALANCES else MetricsSchema


def _route(metric: Metric) -> None:
    def view() -> Response:
        return json_response(views.metric(metric, query(schema_of(metric)), new_uow()))

    view.__name__ = str(metric)
    bp.add_url_rule(f"/{metric}", endpoint=str(metric), view_func=view, methods=["GET"])


for _metric in Metric:
    _route(_metric)
