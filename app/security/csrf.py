"""CSRF protection for the HTML face: a signed double-submit token plus an Origin/Referer check.

The browser holds a random value in the `medina_csrf` cookie (HttpOnly, SameSite=Lax); every form carries
HMAC(secret key, that value). A state-changing request passes only if the form token matches the cookie and
the Origin (or, failing that, Referer) header, when sent, names this site.
"""

import re
from urllib.parse import urlsplit

from fastapi import Request

from app.config import get_settings
from app.security.tokens import new_secret, same, sign

COOKIE = "medina_csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
_COOKIE_CHARS = re.compile(r"[A-Za-z0-9_-]+")


def cookie_value(request: Request) -> str:
    """The request's CSRF cookie value, or a new one (the response middleware then sets the cookie)."""
    existing = request.cookies.get(COOKIE)
    if existing and _well_formed(existing):
        return existing
    if not hasattr(request.state, "new_csrf_cookie"):
        request.state.new_csrf_cookie = new_secret()
    return str(request.state.new_csrf_cookie)


def form_token(request: Request) -> str:
    return sign(get_settings().secret_key, "csrf:" + cookie_value(request))


def _same_origin(request: Request) -> bool:
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return source is None  # no header at all: old clients; "null" (sandboxed/privacy) is refused
    allowed = {urlsplit(get_settings().base_url).netloc, request.headers.get("host", "")}
    return urlsplit(source).netloc in allowed


def _well_formed(cookie: str | None) -> bool:
    """A value this site could have issued (new_secret: URL-safe base64)."""
    return cookie is not None and 20 <= len(cookie) <= 100 and _COOKIE_CHARS.fullmatch(cookie) is not None


async def is_valid(request: Request) -> bool:
    """Checked before the body is read: the Origin, and a cookie this site could have issued; then the token,
    from the X-CSRF-Token header, the query string (streamed uploads) or the form — whose body the body
    limit bounds while it streams in (app/security/bodylimit.py)."""
    cookie = request.cookies.get(COOKIE)
    if not _well_formed(cookie) or not _same_origin(request):
        return False
    assert cookie is not None
    sent = request.headers.get(HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            # multipart bodies (the streamed uploads) carry the token in the query string and are never parsed
            # here: their body may be as large as an upload
            sent = request.query_params.get(FIELD)
        elif content_type.startswith("application/x-www-form-urlencoded"):
            form = await request.form()
            value = form.get(FIELD)
            sent = value if isinstance(value, str) else None
    return sent is not None and same(sent, sign(get_settings().secret_key, "csrf:" + cookie))
