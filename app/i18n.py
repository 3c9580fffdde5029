"""Translations (gettext catalogues under app/locales), the request's language, and locale-aware formatting.

Message ids are English. The current language lives in a context variable set once per request, so that
templates, flash messages and error messages all speak the user's language without passing it around.
"""

from contextvars import ContextVar
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from app.config import LANGUAGES, RTL_LANGUAGES

LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "messages"
LANGUAGE_NAMES = {"fr": "Français", "en": "English", "ar": "العربية"}

_current: ContextVar[str] = ContextVar("medina_language", default="fr")


def compile_catalogues() -> None:
    """Compile each .po into its .mo when the .mo is missing or older (cheap; run at start-up)."""
    for po_path in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as f:
            catalog = read_po(f, locale=po_path.parent.parent.name)
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as f:
            write_mo(f, catalog)
        tmp.replace(mo_path)
    _translations.cache_clear()


@lru_cache
def _translations(language: str) -> NullTranslations:
    if language == "en":
        return NullTranslations()
    return Translations.load(str(LOCALES_DIR), [language], DOMAIN)


def set_language(language: str) -> None:
    _current.set(language if language in LANGUAGES else "fr")


def get_language() -> str:
    return _current.get()


def is_rtl(language: str | None = None) -> bool:
    return (language or get_language()) in RTL_LANGUAGES


def translations() -> NullTranslations:
    return _translations(get_language())


def gettext(message: str, **variables: Any) -> str:
    text = translations().gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations().ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


def negotiate(accept_language: str | None, default: str) -> str:
    if not accept_language:
        return default
    preferred = []
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().replace("_", "-")
        if tag and tag != "*":
            preferred.append(tag)
    found = Locale.negotiate(preferred, list(LANGUAGES), sep="-")
    return str(found.language) if found else default


def N_(message: str) -> str:
    """Marks a message id for extraction where it is defined (module constants); it is translated where it is
    shown, in the reader's language."""
    return message


ZONED = {
    "zoned": "EEEE d MMMM y{sep}HH:mm (VVVV{sep}ZZZZ)",
    "zoned_seconds": "EEEE d MMMM y{sep}HH:mm:ss (VVVV{sep}ZZZZ)",
}


def language_name(code: str | None, language: str | None = None) -> str:
    """A language's name in the reader's language ("French", "français", "الفرنسية"); "" for None."""
    if not code:
        return ""
    return Locale.parse(language or get_language()).languages.get(code, code)


def list_separator(language: str | None = None) -> str:
    """The comma between the parts of a date or a list: Arabic writes "،"."""
    return "، " if (language or get_language()) == "ar" else ", "


def format_datetime(value: datetime | None, format: str = "medium", tz: str = "Africa/Casablanca") -> str:
    """`format` is a Babel format name or pattern, "medium" (the locale's medium date and its short time: no
    seconds), "compact" (day, month, year and 24-hour time), or "zoned" and "zoned_seconds" (the full date
    with the zone named by its place and its offset, never ambiguous: CLDR calls Morocco's +01:00 "Western
    European Standard Time"). Arabic dates use the Arabic comma throughout."""
    if value is None:
        return ""
    language = get_language()
    zone = dates.get_timezone(tz)
    if format == "medium":
        pattern = Locale.parse(language).datetime_formats["medium"]
        day = dates.format_date(value.astimezone(zone), "medium", locale=language)
        hour = dates.format_time(value, "short", tzinfo=zone, locale=language)
        return str(pattern).replace("{1}", day).replace("{0}", hour)
    if format in ZONED:
        format = ZONED[format].format(sep=list_separator(language))
    elif format == "compact":
        format = f"d MMM y{list_separator(language)}HH:mm"
    return dates.format_datetime(value, format=format, tzinfo=zone, locale=language)


def format_date(value: datetime | None, format: str = "long") -> str:
    if value is None:
        return ""
    return dates.format_date(value, format=format, locale=get_language())


def format_number(value: float | int, *, digits: int | None = None) -> str:
    """A number in the reader's locale ("1 512", "36,6" in French); `digits` fixes the decimals shown, else
    all of a value's decimals are kept (a longitude keeps its fourth)."""
    if digits is not None:
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return numbers.format_decimal(value, format=pattern, locale=get_language())
    return numbers.format_decimal(value, locale=get_language(), decimal_quantization=False)


# Binary units (1 KiB = 1,024 bytes), named as each language writes them: CLDR's digital units are decimal.
SIZE_UNITS = (N_("%(size)s KiB"), N_("%(size)s MiB"), N_("%(size)s GiB"))


def format_size(size: int) -> str:
    """A file size in the reader's language: "36,6 Kio", "36.6 KiB", "2 Gio"."""
    if size < 1024:
        return ngettext("%(num)s byte", "%(num)s bytes", size, num=format_number(size))
    value = size / 1024
    for unit in SIZE_UNITS:
        if value < 1024 or unit == SIZE_UNITS[-1]:
            break
        value /= 1024
    rounded = round(value, 1) if value < 100 else round(value)
    digits = 0 if rounded == int(rounded) else 1
    shown = format_number(rounded, digits=digits)
    return gettext(unit, size=shown)
