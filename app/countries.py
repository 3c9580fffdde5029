"""Countries: ISO 3166-1 two-letter codes as every face takes them, and their names in the user's language.

Names come from Babel's territory names (CLDR). CLDR also names regions that are no country (EU, UN, ZZ…),
which are left out; Kosovo's XK, user-assigned but what everyone uses, stays. Western Sahara (EH) is not
offered as a country of its own: the platform serves Moroccan cities and programmes, and Morocco counts it as
its southern provinces (an organisation there chooses Morocco), as Moroccan public services do.
"""

import unicodedata
from functools import cache
from typing import Annotated

from babel import Locale
from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

from app.i18n import get_language, gettext

_NOT_COUNTRIES = frozenset({"AC", "CP", "CQ", "DG", "EA", "EH", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"})
CODES: frozenset[str] = frozenset(
    code
    for code in map(str, Locale("en").territories)
    if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
)
UNKNOWN_COUNTRY = "Choose a country from the list (an ISO 3166 two-letter code, such as MA)."


def _sort_key(name: str) -> str:
    """Alphabetical order for the eye: accents and case ignored (É with E), as a reader of the list expects."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def choices(language: str) -> tuple[tuple[str, str], ...]:
    """(code, name) of every country, sorted by name in `language`."""
    names = Locale.parse(language).territories
    return tuple(sorted(((code, names.get(code, code)) for code in CODES), key=lambda pair: _sort_key(pair[1])))


def options() -> tuple[tuple[str, str], ...]:
    """The options of a country field in the reader's language: none chosen, then every country by name."""
    return (("", gettext("— Choose a country —")), *choices(get_language()))


def name(code: str | None, language: str) -> str:
    """The country's name in `language`; the code itself for a code that names no country (old data)."""
    if not code:
        return ""
    return Locale.parse(language).territories.get(code, code) if code in CODES else code


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def checked_code(value: str) -> str:
    if value not in CODES:
        raise ValueError(UNKNOWN_COUNTRY)
    return value


CountryCode = Annotated[
    str,
    BeforeValidator(_upper),
    AfterValidator(checked_code),
    WithJsonSchema({"type": "string", "enum": sorted(CODES), "description": "ISO 3166-1 alpha-2 code"}),
]
