"""Friendly error pages for the HTML face, in the user's language."""

import logging
from urllib.parse import quote

from fastapi import Request
from starlette.responses import Response

from app.db import open_session
from app.errors import DomainError, Unauthenticated
from app.web.deps import SESSION_COOKIE, LoginRequired, load_actor
from app.web.flash import flash
from app.web.templating import redirect, render

log = logging.getLogger(__name__)

TITLES = {
    400: "The request could not be understood.",
    401: "Sign in to continue.",
    403: "You may not do this.",
    404: "This page does not exist or you do not have access to it.",
    405: "This page does not accept this kind of request.",
    409: "This cannot be done in the current state.",
    429: "Too many requests.",
    500: "Something went wrong on our side.",
}


def _load_actor(request: Request) -> None:
    """Routes load the signed-in actor as a dependency; an unknown URL never reaches one, so its error page
    looks the user up itself (read-only), to show the header they expect."""
    if getattr(request.state, "actor", None) is not None or SESSION_COOKIE not in request.cookies:
        return
    try:
        with open_session(write=False) as session:
            load_actor(request, session)
    except Exception:  # an error page must render even when the database does not answer
        log.exception("could not load the signed-in user for an error page")


def http_error_page(
    request: Request, status: int, detail: str | None = None, variables: dict | None = None
) -> Response:
    _load_actor(request)
    template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/error.html"
    message = detail or TITLES.get(status, TITLES[400])
    return render(
        request,
        template,
        {"status": status, "message": message, "message_vars": variables or {}},
        status_code=status,
    )


def domain_error_page(request: Request, exc: DomainError) -> Response:
    """A page that needs a signed-in user sends a visitor to sign in and come back; a record that asks for
    sign-in (Unauthenticated, e.g. a dataset for registered users) says why on the sign-in page."""
    if isinstance(exc, LoginRequired | Unauthenticated):
        if isinstance(exc, Unauthenticated):
            flash(request, exc.detail, "info", **exc.variables)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(request, f"/login?next={quote(target)}")
    return http_error_page(request, exc.status, exc.detail, exc.variables)
