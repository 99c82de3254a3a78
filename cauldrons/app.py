"""The app factory. No module-level app, engine or session: each app gets its own wiring."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

from flask import Flask, Response, request
from flask_cors import CORS

from cauldrons.bootstrap import UowFactory, bootstrap, page_token_secret
from cauldrons.config import Config
from cauldrons.wsgi import BODY_DEADLINE, WholeBody
from entrypoints import (
    admin,
    auth,
    barrels,
    bottler,
    carts,
    dashboard,
    errors,
    inventory,
    ledger,
    metrics,
    openapi,
    shop,
)
from entrypoints.page_tokens import PageTokens

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024


def create_app(
    config: Config | None = None, uow_factory: UowFactory | None = None, body_deadline: float = BODY_DEADLINE
) -> Flask:
    """The shop's Flask app over `config` (default: from the environment). Tests may hand in a `uow_factory`
    (e.g. a fake) instead of a database. `body_deadline`: seconds a request's whole body may take to arrive."""
    config = config or Config.from_env()
    if config.uses_dev_key:
        log.warning(
            "API_KEY is not set: serving with the public dev key %r. Never do this beyond your machine.", config.api_key
        )
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.url_map.strict_slashes = False  # /catalog and /catalog/ both answer, never an HTML redirect
    app.wsgi_app = WholeBody(  # type: ignore[method-assign]
        app.wsgi_app,
        MAX_BODY_BYTES,
        lambda environ: auth.key_matches(environ.get("HTTP_ACCESS_TOKEN"), config.api_key),
        body_deadline,
    )
    uow_factory = uow_factory or bootstrap(config).uow_factory
    app.extensions["cauldrons.uow_factory"] = uow_factory
    app.extensions["cauldrons.page_tokens"] = PageTokens(page_token_secret(config, uow_factory))
    app.extensions[metrics.EXTENSION] = metrics.Replies(fresh=config.metrics_fresh_seconds)
    for blueprint in (
        shop.bp,
        barrels.bp,
        bottler.bp,
        carts.bp,
        inventory.bp,
        admin.bp,
        ledger.bp,
        metrics.bp,
        dashboard.bp,
        openapi.bp,
    ):
        app.register_blueprint(blueprint)
    errors.register(app)
    # The exchange's web page calls the order search from the browser: its origin (only) gets the grant, on the
    # preflight and on every answer, errors included, so the page can read them. Every answer there, granted or
    # not, says `Vary: Origin`, so no cache hands one origin's answer to another (registered before the grant, so
    # it runs after it).
    search_path = re.compile(carts.SEARCH_PATH)

    @app.after_request
    def vary_on_origin(response: Response) -> Response:
        if search_path.match(unquote(request.path)) or "Access-Control-Allow-Origin" in response.headers:
            response.vary.add("Origin")
        return response

    CORS(
        app,
        resources={carts.SEARCH_PATH: {"origins": list(config.cors_origins)}},
        methods=["GET"],
        allow_headers=["access_token"],
        max_age=600,
    )

    auth.require_key(app, config.api_key)
    return app
