"""`GET /dashboard`: the metrics as a live web page, served by the shop itself (no CDN, works offline).

The page, its script, its style sheets and the charting library it draws with (uPlot, MIT, vendored here: see
`dashboard/uPlot.LICENSE.txt`) are public: a browser sends no key for them, and they hold no data. The page asks for
the API key, keeps it in the tab's sessionStorage and sends it in the `access_token` header to fetch each metric's
rows, `GET /metrics/<metric>` (JSON), and draws them in the browser: the shop never draws a chart while serving. The
key never appears in a URL, so no server or proxy log holds it. A strict Content-Security-Policy allows scripts and
style sheets from the shop only (no inline script, no inline style sheet, no `eval`); the page puts every text it
was sent into the page as text, never as markup.
"""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response, abort

from entrypoints.auth import public

HERE = str(resources.files("entrypoints") / "dashboard")
PAGE_FILES = frozenset({"dashboard.js", "dashboard.css", "uPlot.iife.min.js", "uPlot.min.css"})
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class _DashboardBlueprint(Blueprint):
    @public
    def send_static_file(self, filename: str) -> Response:
        """The page's scripts and style sheets, public like the page."""
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
          description: an HTML page; it draws each chart in the browser from `GET /metrics/<metric>`, fetched with
            the key
          content:
            text/html:
              schema: {type: string}
    """
    html = (resources.files("entrypoints") / "dashboard" / "index.html").read_bytes()
    return _secured(Response(html, content_type="text/html; charset=utf-8"))
