"""The one shape of the HTML face's streamed-upload routes (a dataset's file, a proposal's attachment, a
challenge's image, a startup's logo).

Only the body streams in the event loop: the service runs its database work in worker threads, and so do the
page that answers a refused upload (a re-rendered page with the message beside the file input) and the
redirect that answers a kept one.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.db import discard_attempt
from app.errors import DomainError, Forbidden, Invalid, NotFound
from app.files.uploads import UploadBody
from app.security.bodylimit import upload_body

T = TypeVar("T")


@dataclass(frozen=True)
class Refusal:
    """Why an upload was refused, for the page that says so: its status, message id and variables."""

    error: DomainError
    status: int
    message: str
    variables: dict[str, Any] = field(default_factory=dict)


def refusal(error: DomainError) -> Refusal:
    if isinstance(error, Invalid) and "file" in error.errors:
        return Refusal(error, error.status, error.errors["file"], error.field_variables.get("file", {}))
    return Refusal(error, error.status, error.detail, error.variables)


async def upload_route(
    request: Request,
    session: Session,
    receive: Callable[[UploadBody], Awaitable[T]],
    *,
    done: Callable[[T], Response],
    refused: Callable[[Refusal], Response],
) -> Response:
    """Stream the request's body into `receive` (a service's `receive_*` with its other arguments bound), then
    answer with `done(result)`, or with `refused(...)` when the upload was refused. A 404 or a 403 is no
    refusal of the file: it goes to the error page. `refused` runs after the attempt is rolled back, and may
    raise the error itself (when the page it would show is no longer the user's to see)."""
    try:
        result = await receive(upload_body(request, session))
    except (NotFound, Forbidden):
        raise
    except DomainError as exc:
        return await run_in_threadpool(_refused, session, refused, exc)
    return await run_in_threadpool(done, result)


def _refused(session: Session, refused: Callable[[Refusal], Response], error: DomainError) -> Response:
    discard_attempt(session)
    return refused(refusal(error))
