"""Cursor pagination for API lists: `?limit=N&cursor=C` → `{"items": [...], "next": url | null}`.

The cursor is an opaque offset into a stable ordering; list endpoints that grow large will switch to keyset
cursors (the id of the last item) without changing the contract.
"""

import base64
from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel

from app.errors import Invalid

T = TypeVar("T")
MAX_LIMIT = 500
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many items per page (1–500)")]
Cursor = Annotated[str | None, Query(max_length=200, description="The `next` cursor of the previous page")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None


def _decode(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        value = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
    except (ValueError, UnicodeDecodeError):
        raise Invalid({"cursor": "This cursor is not valid; start again without it."}) from None
    if value < 0:
        raise Invalid({"cursor": "This cursor is not valid; start again without it."})
    return value


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid({"limit": "Choose a limit between 1 and 500."})
    return limit


def paginate(request: Request, items: Sequence[T], *, limit: int, cursor: str | None) -> Page[T]:
    limit = check_limit(limit)
    start = _decode(cursor)
    window = list(items[start : start + limit])
    next_url = None
    if start + limit < len(items):
        next_url = str(request.url.include_query_params(cursor=_encode(start + limit), limit=limit))
    return Page[T](items=window, next=next_url)


def offset_of(cursor: str | None) -> int:
    """The position a cursor stands for, for lists paged in SQL (see page_of)."""
    return _decode(cursor)


def page_of(request: Request, items: list[T], *, offset: int, limit: int, total: int) -> Page[T]:
    """A page of a list already cut by the database at `offset`, of `total` items in all."""
    next_url = None
    if offset + limit < total:
        next_url = str(request.url.include_query_params(cursor=_encode(offset + limit), limit=limit))
    return Page[T](items=items, next=next_url)
