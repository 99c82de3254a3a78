"""`GET /dashboard`: the metrics as a live web page, served by the shop itself (no CDN, works offline).

The page and its script and style sheet are public: a browser sends no key for them, and they hold no data. The
page asks for the API key, keeps it in the tab's sessionStorage and sends it in the `access_token` header to fetch
each chart, `GET /dashboard/charts/<metric>.svg`, drawn by `entrypoints/charts.py` (the same code draws the PNGs
of `cauldrons report`). The key never appears in a URL, so no server or proxy log holds it. A strict
Content-Security-Policy allows scripts from the shop only (no inline script); inline styles are allowed because
matplotlib's SVG carries its styles in attributes.
"""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response, abort

from domain.metrics import TITLES, Metric
from entrypoints.auth import public
from entrypoints.charts import render
from entrypoints.http import new_uow, query
from entrypoints.metrics import schema_of
from service_layer import views

HERE = str(resources.files("entrypoints") / "dashboard")
PAGE_FILES = frozenset({"dashboard.js", "dashboard.css"})
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class _DashboardBlueprint(Blueprint):
    @public
    def send_static_file(self, filename: str) -> Response:
        """The page's script and style sheet, public like the page."""
        if filename not in PAGE_FILES:
            abort(404)
        response = super().send_static_file(filename)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


bp = _DashboardBlueprint("dashboard", __name__, static_folder=HERE, static_url_path="/dashboard/assets")


def _secured(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/dashboard")
@public
def page() -> Response:
    """The metrics as a live page (it asks for the key).
    ---
    get:
      operationId: dashboard
      tags: [metrics]
      responses:
        200:
          description: an HTML page (its charts are fetched with the key)
          content:
            text/html:
              schema: {type: string}
    """
    html = (resources.files("entrypoints") / "dashboard" / "index.html").read_bytes()
    return _secured(Response(html, content_type="text/html; charset=utf-8"))


CHART = """{title}, drawn as an SVG chart.

The rows of `GET /metrics/{metric}`, drawn; it takes the same query parameters.
---
get:
  operationId: chart_{metric}
  tags: [metrics]
  parameters:
    - in: query
      schema: {query}
  responses:
    200:
      description: an SVG image; each mark standing for data has an id `mark-...` or `series-...`
      content:
        image/svg+xml:
          schema:
            type: string
    503: Unavailable
"""


def _chart(metric: Metric) -> None:
    """`GET /dashboard/charts/<metric>.svg`, one route per chart: each takes its metric's query string."""

    def view() -> Response:
        rows = views.metric(metric, query(schema_of(metric)), new_uow())["rows"]
        return _secured(Response(render(metric, TITLES[metric], rows), content_type="image/svg+xml"))

    view.__name__ = f"chart_{metric}"
    view.__doc__ = CHART.format(title=TITLES[metric], metric=metric, query=schema_of(metric).__name__)
    bp.add_url_rule(f"/dashboard/charts/{metric}.svg", endpoint=view.__name__, view_func=view, methods=["GET"])


for _metric in Metric:
    _chart(_metric)
