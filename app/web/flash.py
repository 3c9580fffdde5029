"""One-shot messages shown on the next page, kept in a signed cookie (message ids, translated on render)."""

import base64
import json
from typing import Any

from fastapi import Request
from starlette.responses import Response

from app.config import get_settings
from app.security.tokens import same, sign

COOKIE = "medina_flash"


def flash(request: Request, message: str, category: str = "success", **variables: Any) -> None:
    pending = getattr(request.state, "flash_out", [])
    pending.append({"m": message, "c": category, "v": variables})
    request.state.flash_out = pending


def reveal(request: Request, kind: str, secret: str, **details: Any) -> None:
    """Show a secret (a new API token, an invitation link) once, on the page the POST redirects to.

    It rides in the signed, HttpOnly, five-minute flash cookie and is dropped once shown, so a reload of
    that page neither shows it again nor repeats the action (post-redirect-get)."""
    flash(request, "", f"reveal-{kind}", secret=secret, **details)


def revealed(flashes: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    for item in flashes:
        if item["c"] == f"reveal-{kind}":
            return dict(item["v"])
    return None


def _encode(items: list[dict[str, Any]]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(items).encode()).decode()
    return f"{payload}.{sign(get_settings().secret_key, 'flash:' + payload)}"


def pop_messages(request: Request) -> list[dict[str, Any]]:
    """Messages set by the previous request (cookie), then any set during this one."""
    if getattr(request.state, "flash_consumed", False):
        return []
    request.state.flash_consumed = True
    items: list[dict[str, Any]] = []
    raw = request.cookies.get(COOKIE, "")
    payload, _, signature = raw.partition(".")
    if payload and same(signature, sign(get_settings().secret_key, "flash:" + payload)):
        try:
            items = json.loads(base64.urlsafe_b64decode(payload.encode()))
        except ValueError:
            items = []
    items.extend(getattr(request.state, "flash_out", []))
    request.state.flash_out = []
    return items


def apply(request: Request, response: Response) -> Response:
    """Write pending messages to the cookie, or clear the cookie once its messages have been shown."""
    pending = getattr(request.state, "flash_out", [])
    secure = get_settings().secure_cookies
    if pending:
        response.set_cookie(COOKIE, _encode(pending), httponly=True, samesite="lax", secure=secure, max_age=300)
    elif getattr(request.state, "flash_consumed", False) and COOKIE in request.cookies:
        response.delete_cookie(COOKIE, httponly=True, samesite="lax", secure=secure)
    return response
