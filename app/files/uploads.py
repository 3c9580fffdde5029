"""The one shape of a service's streamed upload (datasets, proposal attachments, a challenge's image, a logo).

A face hands the service the request's body as an `UploadBody`; the service calls `receive` with its two
steps: `check` the permission before a byte is read, then `keep` the received file in the writing transaction
(checking the permission again: the transaction that checked it first ended while the body streamed in).
"""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from app.files.multipart import ReceivedUpload, check_content_length, receive_upload
from app.files.types import FILE_TYPES, FileType

T = TypeVar("T")


@dataclass(frozen=True)
class UploadBody:
    """A multipart request body as it streams in, and how to pause the request's transaction meanwhile."""

    chunks: AsyncIterator[bytes]
    content_type: str | None
    content_length: str | None
    streaming: Callable[[], AbstractAsyncContextManager[None]]
    """Ends the request's transaction and gives back its connection slot while the body streams in
    (app/db.py between_transactions), so that a slow upload holds neither SQLite's write lock nor a slot."""


async def receive(
    body: UploadBody,
    *,
    check: Callable[[], object],
    keep: Callable[[ReceivedUpload], T],
    limit: int | None = None,
    types: tuple[FileType, ...] = FILE_TYPES,
) -> T:
    """Run `check` (in a worker thread), refuse a body declared over `limit` before reading it, stream the
    multipart field `file` into a temporary file outside any transaction, then run `keep` (in a worker
    thread) with it. The temporary file is gone on every failure, and after `keep` unless it was moved into
    place."""
    await run_in_threadpool(check)
    check_content_length(body.content_length, limit=limit)
    async with body.streaming():
        received = await receive_upload(
            body.chunks, body.content_type, limit=limit, content_length=body.content_length, types=types
        )
    try:
        return await run_in_threadpool(keep, received)
    finally:
        received.staged.discard()
