"""The app factory. No module-level app, engine or session: each app gets its own wiring."""
from __future__ import annotations

import hmac
import logging

from flask import Flask, request

from cauldrons.bootstrap import UowFactory, bootstrap
from cauldrons.config import Config
from entrypoints import admin, barrels, bottler, carts, errors, inventory, ledger, shop

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024


def create_app(config: Config | None = None, uow_factory: UowFactory | None = None) -> Flask:
    """The shop's Flask app over `config` (default: from the environment). Tests may hand in a `uow_factory`
    (e.g. a fake) instead of a database."""
    config = config or Config.from_env()
    if config.uses_dev_key:
        log.warning("API_KEY is not set: serving with the public dev key %r. Never do this beyond your machine.",
                    config.api_key)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.url_map.strict_slashes = False  # /catalog and /catalog/ both answer, never an HTML redirect
    app.extensions["cauldrons.uow_factory"] = uow_factory or bootstrap(config).uow_factory
    for blueprint in (shop.bp, barrels.bp, bottler.bp, carts.bp, inventory.bp, admin.bp, ledger.bp):
        app.register_blueprint(blueprint)
    errors.register(app)

    @app.before_request
    def authenticate() -> object:
        if request.endpoint is None or request.endpoint in shop.PUBLIC:
            return None
        given = request.headers.get("access_token", "")
        if not hmac.compare_digest(given.encode(), config.api_key.encode()):
            return errors.unauthorized()
        return None

    return app
