"""Re-rendering a form with the user's input and the errors, in the user's language."""

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.errors import Invalid
from app.validation import InvalidInput
from app.web.templating import render

NEVER_ECHOED = frozenset({"password", "password_confirm", "current_password"})


def form_error(
    request: Request,
    template: str,
    form: dict[str, Any],
    error: Invalid,
    context: dict[str, Any] | None = None,
) -> HTMLResponse:
    kept = {k: v for k, v in form.items() if k not in NEVER_ECHOED}
    error_vars = error.field_variables if isinstance(error, InvalidInput) else {}
    values = {"form": kept, "errors": error.errors, "error_vars": error_vars, "form_error": error.detail}
    values.update(context or {})
    return render(request, template, values, status_code=422)
