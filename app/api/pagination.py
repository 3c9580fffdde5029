"""Cursor pagination for API lists: `?limit=N&cursor=C` → `{"items": [...], "next": url | null}`.

The cursor is an opaque offset into a stable ordering; list endpoints that grow large will switch to keyset
cursors (the id of the last item) without changing the contract. It is the unpadded URL-safe base64 of the
offset in decimal, at most nine digits; the schema gives that format as a pattern, and a cursor outside it
is a 422 (never an offset the database cannot hold).
"""

import base64
import re
from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel, WithJsonSchema
from starlette.datastructures import URL

from app.config import site_url
from app.errors import Invalid

T = TypeVar("T")
MAX_LIMIT = 500
# The base64 of ASCII digits (0x30–0x39, bits 0011dddd), spelled out: three digits make four characters
# (0011 + the first digit's top bits; its low bits + 0011; the second digit + 00; 11 + the third digit), one
# or two last digits make two or three. Two groups and a last piece: 0 to 9 digits.
_FIRST = "(?:[MN][DTjz]|O[DT])"
_THREE = f"{_FIRST}[AEIMQUYcgk][w-z0-5]"
_PIECE = f"(?:{_THREE}|{_FIRST}[AEIMQUYcgk]|[MN][AQgw]|O[AQ])"
CURSOR_PATTERN = f"^(?:{_THREE}){{0,2}}{_PIECE}?$"
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many items per page (1–500)")]
Cursor = Annotated[
    Annotated[str, WithJsonSchema({"type": "string", "pattern": CURSOR_PATTERN})] | None,
    Query(max_length=200, description="The `next` cursor of the previous page"),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None


def _public(url: URL) -> str:
    """The next page's URL on the configured site address (see app.config.site_url)."""
    return site_url(url.path + (f"?{url.query}" if url.query else ""))


def _decode(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not re.fullmatch(CURSOR_PATTERN, cursor):
        raise Invalid({"cursor": "This cursor is not valid; start again without it."})
    return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


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
        next_url = _public(request.url.include_query_params(cursor=_encode(start + limit), limit=limit))
    return Page[T](items=window, next=next_url)


def offset_of(cursor: str | None) -> int:
    """The position a cursor stands for, for lists paged in SQL (see page_of)."""
    return _decode(cursor)


def page_of(request: Request, items: list[T], *, offset: int, limit: int, total: int) -> Page[T]:
    """A page of a list already cut by the database at `offset`, of `total` items in all."""
    next_url = None
    if offset + limit < total:
        next_url = _public(request.url.include_query_params(cursor=_encode(offset + limit), limit=limit))
    return Page[T](items=items, next=next_url)
