"""RFC 9457 problem details for every error the API answers; never a stack trace."""

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app import i18n
from app.errors import DomainError, Invalid, RateLimited, Unauthenticated
from app.validation import field_errors

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://medina.example/problems/"


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    slug = title.lower().replace(" ", "-")
    body: dict[str, Any] = {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def from_domain_error(request: Request, exc: DomainError) -> JSONResponse:
    i18n.set_language(getattr(request.state, "language", "fr"))
    detail = i18n.gettext(exc.detail, **exc.variables)
    headers: dict[str, str] = {}
    errors = None
    if isinstance(exc, Invalid):
        variables = exc.field_variables
        errors = [
            {"field": field, "message": i18n.gettext(message, **variables.get(field, {}))}
            for field, message in exc.errors.items()
        ]
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="medina"'
    return problem_response(exc.status, exc.title, detail, errors=errors, headers=headers)


def from_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    i18n.set_language(getattr(request.state, "language", "fr"))
    errors = []
    for field, (message, variables) in field_errors(exc.errors()).items():
        name = field.split(".", 1)[1] if field.startswith(("body.", "query.", "path.", "header.")) else field
        errors.append({"field": name, "message": i18n.gettext(message, **variables)})
    return problem_response(422, "Invalid input", i18n.gettext("Please correct the errors below."), errors=errors)


# What any operation may answer. 400 is "There was an error parsing the body" (FastAPI), for a body that
# cannot be read (JSON that is not UTF-8) on the operations that take one, and a malformed request on any.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": title}
    for status, title in (
        (400, "The request or its body cannot be read"),
        (401, "Authentication required"),
        (403, "Forbidden"),
        (404, "Not found"),
        (422, "Invalid input"),
        (429, "Too many requests"),
    )
}
