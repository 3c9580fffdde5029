"""The text search of list filters (`q`): what every `q` builds its SQL with, so that they all agree."""

from typing import Any

from sqlalchemy import ColumnElement, false, func

MAX_QUERY_LENGTH = 100


def contains_text(column: Any, q: str) -> ColumnElement[bool]:
    """`column` holds the words of `q`, whatever their case. `%`, `_` and the escape character are searched
    for as themselves (SQLAlchemy's autoescape), never as LIKE wildcards. No text holds a NUL on PostgreSQL
    (it refuses to compare with one), so a search with a NUL matches nothing."""
    needle = q.strip().lower()[:MAX_QUERY_LENGTH]
    if "\x00" in needle:
        return false()
    return func.lower(column).contains(needle, autoescape=True)
