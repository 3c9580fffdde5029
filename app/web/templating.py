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
from app.web import confirm, flash


class FieldErrors(dict[str, str]):
    """A form's errors (field name → message id) that learn each field's label as the form renders, in the
    form's order, so that the error summary at the top of the form can name and order them."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.labels: dict[str, str] = {}

    def summary(self) -> list[tuple[str, str | None, str]]:
        """(name, label, message id): the fields of the form in its order, then errors no field shows."""
        named = [(name, label, self[name]) for name, label in self.labels.items()]
        return named + [(name, None, message) for name, message in self.items() if name not in self.labels]


def _labelled(errors: Any, name: str, label: Any) -> str:
    if isinstance(errors, FieldErrors) and name in errors:
        errors.labels.setdefault(name, label)  # as given: a macro's Markup stays escaped once
    return ""


def _summary_items(errors: Any) -> list[tuple[str, str | None, str]]:
    if isinstance(errors, FieldErrors):
        return errors.summary()
    return [(name, None, message) for name, message in errors.items()]


environment.globals["labelled"] = _labelled
environment.globals["CONFIRM_LABEL"] = confirm.LABEL  # the box of templates/_macros/confirm.html
environment.globals["summary_items"] = _summary_items


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
    page = environment.get_template(template)
    if values["errors"] and isinstance(values["errors"], dict):
        # the summary comes before the fields it names: a first rendering learns their labels and order
        values["errors"] = FieldErrors(values["errors"])
        page.render(values)
    html = page.render(values)
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
