"""No text reaches the database with a NUL character: PostgreSQL's text refuses them (a 500 there, where SQLite
would keep an invisible character). They are dropped where text comes in, before any field's own checks, so a
name that was only a NUL is an empty name and refused as such: in JSON bodies of the API here, in HTML forms by
`app.web.deps.form_data` with `drop_nul`.

JSON can carry a NUL only escaped (`\\u0000`; RFC 8259 forbids the raw control character), so a body without
that escape passes untouched and unbuffered; one with it is read whole (already bounded by BodyLimitMiddleware,
outside this one) at the app's first read, decoded, cleaned and re-encoded."""

import contextlib
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ESCAPED_NUL = b"\\u0000"


def drop_nul(value: Any) -> Any:
    """The value with every NUL removed from its strings, keys included, at any depth."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [drop_nul(item) for item in value]
    if isinstance(value, dict):
        return {drop_nul(key): drop_nul(item) for key, item in value.items()}
    return value


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            kind = value.split(b";", 1)[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return False


class NulFreeJson:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        done = False

        async def whole_body() -> Message:
            """The app's first read takes the whole body (so the body limit's refusal reaches the app's handlers
            as before); later reads are the client's own (a disconnect)."""
            nonlocal done
            if done:
                return await receive()
            chunks: list[bytes] = []
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return message
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            done = True
            body = b"".join(chunks)
            if ESCAPED_NUL in body:
                with contextlib.suppress(ValueError):  # not JSON after all: the app's own parser says so
                    body = json.dumps(drop_nul(json.loads(body)), ensure_ascii=False).encode()
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, whole_body, send)
