"""Request bodies are bounded while they stream in, before anything parses them.

Every request may send at most MEDINA_MAX_BODY_BYTES (forms and JSON: 4 MiB by default, room for the largest
valid proposal written in Arabic and percent-encoded), except multipart bodies to the streamed-upload routes
(marked with @streamed_upload), which may send the upload limit: those parse their body as it arrives and enforce each
kind of file's exact limit themselves (app/files/). A declared Content-Length over the limit is refused before
a byte is read; a chunked body is counted as it arrives and refused at the first byte over. Either way the
answer is 413 (problem details on the API, an error page on the HTML face), from the first read of the body.

An API request that sends a body without `Authorization: Bearer` is refused (401) at that first read too:
FastAPI reads a JSON body before the token dependency runs, so without this an anonymous client could make
us parse megabytes of JSON for nothing. A request with a token has it checked after the (bounded) body is
read; the HTML face checks the Origin and the CSRF cookie before reading a form (app/security/csrf.py).
"""

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import Request
from fastapi.routing import iter_route_contexts
from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import get_settings
from app.db import between_transactions
from app.errors import DomainError, Unauthenticated
from app.files.multipart import MULTIPART_OVERHEAD
from app.files.types import TooLarge, human_size
from app.files.uploads import UploadBody

NO_TOKEN = "Send an API token as `Authorization: Bearer <token>`."  # noqa: S105 (a message)
UPLOAD_MARK = "__medina_streamed_upload__"

F = TypeVar("F", bound=Callable[..., Any])


def streamed_upload(endpoint: F) -> F:
    """Mark a route whose body is a streamed upload: it may send up to the upload limit."""
    setattr(endpoint, UPLOAD_MARK, True)
    return endpoint


def upload_body(request: Request, session: Session) -> UploadBody:
    """The body of a request to a streamed-upload route, as the services' `receive_*` take it (both faces)."""
    return UploadBody(
        request.stream(),
        content_type=request.headers.get("content-type"),
        content_length=request.headers.get("content-length"),
        streaming=between_transactions(request, session),
    )


def upload_path_patterns(routes: Sequence[BaseRoute]) -> list[re.Pattern[str]]:
    """The path patterns of the routes marked @streamed_upload, included routers and prefixes resolved."""
    return [
        compile_path(context.path)[0]
        for context in iter_route_contexts(routes)
        if context.path and getattr(getattr(context.original_route, "endpoint", None), UPLOAD_MARK, False)
    ]


class BodyRefused(HTTPException):
    """Raised from the first read of a refused body. An HTTPException, so that FastAPI's body parsing passes it
    on untouched (it turns other errors into a 400); the handlers answer with the domain error it carries."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.status, error.detail)
        self.error = error


def too_large(limit: int) -> BodyRefused:
    return BodyRefused(TooLarge("The request is larger than %(size)s; send less.", size=human_size(limit)))


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.upload_patterns: list[re.Pattern[str]] | None = None  # found on the first request, routes all known

    def limit_for(self, scope: Scope, content_type: bytes) -> int:
        """The upload limit for a multipart body to an upload route; the small limit for anything else (a
        urlencoded form sent to an upload route is parsed whole, by the CSRF check among others)."""
        settings = get_settings()
        if self.upload_patterns is None:
            self.upload_patterns = upload_path_patterns(scope["app"].routes)
        if content_type.startswith(b"multipart/form-data") and any(
            p.match(scope["path"]) for p in self.upload_patterns
        ):
            return settings.max_upload_bytes + MULTIPART_OVERHEAD
        return settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        path: str = scope["path"]
        limit = self.limit_for(scope, headers.get(b"content-type", b"").lower())
        declared = headers.get(b"content-length", b"").strip()
        declared_too_large = declared.isdigit() and int(declared) > limit
        anonymous_api_body = (
            path.startswith("/api/")
            and (declared not in (b"", b"0") or b"transfer-encoding" in headers)
            and not headers.get(b"authorization", b"").lower().startswith(b"bearer ")
        )
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            if anonymous_api_body:
                raise BodyRefused(Unauthenticated(NO_TOKEN))
            if declared_too_large:
                raise too_large(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large(limit)
            return message

        await self.app(scope, bounded_receive, send)
