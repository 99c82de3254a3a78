"""The API key: every route needs it in the `access_token` header but the views marked `@public`.

Unknown routes and wrong methods need it too, so a client without the key learns nothing of what the shop serves
(401 before any 404 or 405). A view marked `@preflight_open` answers a CORS preflight without the key: browsers
send preflights without credentials, and a preflight runs no view.

Every reply but a public view's says `Cache-Control: no-store`: what needs the key (and the refusals of those who
lack it) must never be kept by a shared cache and handed to another client. Public replies are left as they are.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, request

from entrypoints.errors import unauthorized

View = TypeVar("View", bound=Callable[..., Response])
PUBLIC = "cauldrons_public"
PREFLIGHT_OPEN = "cauldrons_preflight_open"


def public(view: View) -> View:
    """Anyone may call this view, without the key."""
    setattr(view, PUBLIC, True)
    return view


def preflight_open(view: View) -> View:
    """Browsers may ask this view's CORS preflight without the key."""
    setattr(view, PREFLIGHT_OPEN, True)
    return view


def key_matches(given: str | None, api_key: str) -> bool:
    return hmac.compare_digest((given or "").encode(), api_key.encode())


def _marked(mark: str) -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return view is not None and getattr(view, mark, False)


def require_key(app: Flask, api_key: str) -> None:
    @app.before_request
    def authenticate() -> Response | None:
        if _marked(PUBLIC) or (request.method == "OPTIONS" and _marked(PREFLIGHT_OPEN)):
            return None
        if not key_matches(request.headers.get("access_token"), api_key):
            return unauthorized()
        return None

    @app.after_request
    def keep_out_of_shared_caches(response: Response) -> Response:
        if not _marked(PUBLIC):
            response.headers["Cache-Control"] = "no-store"
        return response
