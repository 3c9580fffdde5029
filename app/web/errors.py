"""Friendly error pages for the HTML face, in the user's language."""

from urllib.parse import quote

from fastapi import Request
from starlette.responses import Response

from app.errors import DomainError
from app.web.deps import LoginRequired
from app.web.templating import redirect, render

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


def http_error_page(
    request: Request, status: int, detail: str | None = None, variables: dict | None = None
) -> Response:
    template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/error.html"
    message = detail or TITLES.get(status, TITLES[400])
    return render(
        request,
        template,
        {"status": status, "message": message, "message_vars": variables or {}},
        status_code=status,
    )


def domain_error_page(request: Request, exc: DomainError) -> Response:
    if isinstance(exc, LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(request, f"/login?next={quote(target)}")
    return http_error_page(request, exc.status, exc.detail, exc.variables)
