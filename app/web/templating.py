"""Rendering pages: the shared Jinja environment plus what every page needs (user, language, CSRF, flashes)."""

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from app import i18n
from app.accounts import permissions as account_permissions
from app.security import csrf
from app.security.actor import ANONYMOUS, Actor
from app.templating import environment
from app.web import flash


def page_language(request: Request) -> str:
    return getattr(request.state, "language", None) or "fr"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    language = page_language(request)
    i18n.set_language(language)
    actor: Actor = getattr(request.state, "actor", None) or ANONYMOUS
    values: dict[str, Any] = {
        "request": request,
        "actor": actor,
        "user": actor.user if actor.is_authenticated else None,
        "can": account_permissions,
        "lang": language,
        "dir": "rtl" if i18n.is_rtl(language) else "ltr",
        "csrf_token": csrf.form_token(request),
        "csrf_field": csrf.FIELD,
        "flashes": flash.pop_messages(request),
        "revealed": flash.revealed,
        "is_htmx": request.headers.get("HX-Request") == "true",
        "form": {},
        "errors": {},
        "error_vars": {},
    }
    values.update(context or {})
    html = environment.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers.setdefault("Cache-Control", "no-store" if actor.is_authenticated else "private, no-cache")
    flash.apply(request, response)
    return response


def redirect(request: Request, url: str) -> Response:
    """Post-redirect-get: 303 for a plain form; an htmx request gets HX-Redirect so the whole page changes."""
    if request.headers.get("HX-Request") == "true":
        response: Response = Response(status_code=204, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    return flash.apply(request, response)
