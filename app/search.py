"""The text search of list filters (`q`): what every `q` builds its SQL with, so that they all agree.

A search ignores case and accents, as people type: "dechets" finds "déchets" and "Eclairage" finds
"Éclairage". Both databases fold the column with SQL's translate() (PostgreSQL's own; on SQLite the function
app/db.py registers on each connection), the search text is folded the same way here.
"""

import unicodedata
from typing import Any

from sqlalchemy import ColumnElement, false, func

MAX_QUERY_LENGTH = 100
# Accented Latin letters (lower and upper case: SQLite's lower() knows only ASCII) and their base letter.
ACCENTED = "àâäáãåçéèêëíìîïñóòôöõúùûüýÿÀÂÄÁÃÅÇÉÈÊËÍÌÎÏÑÓÒÔÖÕÚÙÛÜÝŸ"
BASE = "aaaaaaceeeeiiiinooooouuuuyyaaaaaaceeeeiiiinooooouuuuyy"


def fold(text: str) -> str:
    """`text` without case or accents, as the SQL side folds it."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def contains_text(column: Any, q: str) -> ColumnElement[bool]:
    """`column` holds the words of `q`, whatever their case and accents. `%`, `_` and the escape character are
    searched for as themselves (SQLAlchemy's autoescape), never as LIKE wildcards. No text holds a NUL on
    PostgreSQL (it refuses to compare with one), so a search with a NUL matches nothing."""
    needle = fold(q.strip())[:MAX_QUERY_LENGTH]
    if "\x00" in needle:
        return false()
    return func.translate(func.lower(column), ACCENTED, BASE).contains(needle, autoescape=True)
