"""Security headers on every answer, the CSRF cookie when a page created one, and the request's language."""

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import i18n
from app.config import get_settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
LANGUAGE_COOKIE = "medina_lang"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        settings = get_settings()
        language = request.cookies.get(LANGUAGE_COOKIE)
        if language not in ("fr", "en", "ar"):
            language = i18n.negotiate(request.headers.get("accept-language"), settings.default_language)
        scope.setdefault("state", {})["language"] = language
        i18n.set_language(language)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
                if settings.secure_cookies:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
                new_csrf = scope.get("state", {}).get("new_csrf_cookie")
                if new_csrf:
                    from app.security.csrf import COOKIE

                    secure = "; Secure" if settings.secure_cookies else ""
                    headers.append("Set-Cookie", f"{COOKIE}={new_csrf}; Path=/; HttpOnly; SameSite=Lax{secure}")
            await send(message)

        await self.app(scope, receive, send_with_headers)
