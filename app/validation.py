"""Input validation shared by both faces: pydantic errors become field → message-id maps (see errors.Invalid)."""

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypeVar

import annotated_types
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, PlainValidator, StringConstraints, ValidationError, WithJsonSchema

from app.errors import Invalid

M = TypeVar("M", bound=BaseModel)

_MESSAGES = {
    "missing": "This field is required.",
    "string_too_short": "This field is required.",
    "string_too_long": "Use at most %(max_length)s characters.",
    "value_error": "Enter a valid value.",
    "literal_error": "Choose one of the options.",
    "enum": "Choose one of the options.",
    "bool_parsing": "Choose yes or no.",
    "int_parsing": "Enter a whole number.",
    "datetime_parsing": "Enter a valid date and time.",
    "datetime_from_date_parsing": "Enter a valid date and time.",
    "url_parsing": "Enter a valid web address, such as https://example.org.",
    "url_scheme": "Enter a valid web address, such as https://example.org.",
    "string_pattern_mismatch": "Use only lowercase letters, digits and hyphens.",
    "greater_than_equal": "Enter a number of at least %(ge)s.",
    "less_than_equal": "Enter a number of at most %(le)s.",
    "float_parsing": "Enter a number.",
    "too_long": "Give at most %(max_length)s items.",
}

# A part of an error location that names a field, a list index or a dict key; the other parts are pydantic's
# names for the members of a union ("constrained-str", "literal['']", "function-wrap[wrap_val()]"), which no
# form field has: an error on `country: Code | Literal[""]` is an error on `country`.
_FIELD_PART = re.compile(r"[a-z_][a-z0-9_]*|[0-9]+")
_TYPE_NAMES = frozenset({"str", "int", "float", "bool", "bytes", "none", "url", "date", "datetime", "list", "dict"})


def message_for(error: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    kind = error.get("type", "")
    ctx = dict(error.get("ctx") or {})
    if kind == "value_error" and "email" in str(error.get("msg", "")).lower():
        return "Enter a valid email address, such as name@example.org.", {}
    if kind == "value_error" and isinstance(ctx.get("error"), ValueError):
        return str(ctx["error"]), {}
    if kind == "string_too_short" and ctx.get("min_length", 1) > 1 and str(error.get("input", "")).strip():
        return "Use at least %(min_length)s characters.", {"min_length": ctx["min_length"]}
    return _MESSAGES.get(kind, "Enter a valid value."), {k: v for k, v in ctx.items() if k != "error"}


def field_errors(errors: Sequence[Mapping[str, Any]], *, skip_prefix: int = 0) -> dict[str, tuple[str, dict]]:
    """Field (dotted path) → (message id, variables), the first error of each field. When no member of a union
    accepts the value, the message of the value's own kind wins over the "" member's "choose one of the options"."""
    out: dict[str, tuple[str, dict]] = {}
    fallbacks: dict[str, tuple[str, dict]] = {}
    for error in errors:
        loc = [str(p) for p in error.get("loc", ())][skip_prefix:]
        path = loc[:1] + [p for p in loc[1:] if _FIELD_PART.fullmatch(p) and p not in _TYPE_NAMES]
        field = ".".join(path) or "__all__"
        union_literal = error.get("type") == "literal_error" and len(path) < len(loc)
        (fallbacks if union_literal else out).setdefault(field, message_for(error))
    for field, message in fallbacks.items():
        out.setdefault(field, message)
    return out


class InvalidInput(Invalid):
    """An Invalid raised from pydantic errors (or made of field → (message id, variables) pairs)."""

    def __init__(self, errors: dict[str, tuple[str, dict]]) -> None:
        super().__init__({k: v[0] for k, v in errors.items()}, field_variables={k: v[1] for k, v in errors.items()})


def parse(model: type[M], data: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc.errors())) from None


# Record ids are bounded to what PostgreSQL's `integer` holds (every id column is one; see migrations/), so
# that a huge id is a clean 404/422 on PostgreSQL and SQLite alike instead of a database overflow.
MAX_ID = 2_147_483_647
RecordId = Annotated[int, annotated_types.Interval(ge=1, le=MAX_ID)]  # a path parameter on both faces

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SLUG_MAX_LENGTH = 80


def whole_number(value: object, *, max_digits: int = len(str(MAX_ID))) -> int | None:
    """A whole number written in ASCII digits, as forms and query strings send them; None for anything else,
    including the digits that str.isdigit() knows and int() refuses (², ①) and numbers of more than
    `max_digits` digits."""
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() and len(text) <= max_digits else None


# an id as JSON Schema's "integer" allows it, written as a whole number: 2, or 2.0 (a client serialising numbers
# as floats sends that)
WHOLE_ID = re.compile(r"([0-9]+)(?:\.0+)?")


def id_or_slug(value: str) -> int | str | None:
    """A record named in a list filter by its id or its short name: the id when `value` is a whole number, the
    slug otherwise; None when it can be neither (an id out of range, a malformed slug), which no record is."""
    digits = WHOLE_ID.fullmatch(value)
    if digits:
        number = whole_number(digits.group(1))
        return number if number is not None and 1 <= number <= MAX_ID else None
    return value if len(value) <= SLUG_MAX_LENGTH and SLUG.fullmatch(value) else None


def _checked_id_or_slug(value: Any) -> int | str:
    found = id_or_slug(value) if isinstance(value, str) else None
    if found is None:
        raise ValueError("Give an id from 1 to 2147483647, or a short name of lowercase letters, digits and hyphens.")
    return found


# A query parameter naming a record by id or slug. The schema says what id_or_slug reads: an id in range, or
# a slug that is not all digits (those are ids), so that any value the schema allows is answered.
IdOrSlug = Annotated[
    int | str,
    PlainValidator(_checked_id_or_slug),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                {
                    "type": "string",
                    "maxLength": SLUG_MAX_LENGTH,
                    "pattern": r"^(?:[a-z0-9]+(?:-[a-z0-9]+)+|[0-9]*[a-z][a-z0-9]*)$",
                },
            ]
        }
    ),
]


EMAIL_MAX_LENGTH = 254
INVALID_EMAIL = "Enter a valid email address, such as name@example.org."


def checked_email(value: str) -> str:
    """An email address as every face takes it (web forms, API, CLI), normalised as pydantic's EmailStr does.

    Reserved domains stay refused (localhost, .local, .invalid…) except `.test` (RFC 2606), the domain of the
    demo's accounts and of test set-ups: mail to it is never delivered, and refusing it only meant that the
    CLI could not create the accounts the demo has. Raises ValueError(INVALID_EMAIL) otherwise.
    """
    try:
        return validate_email(value, check_deliverability=False, test_environment=True).normalized
    except EmailNotValidError:
        raise ValueError(INVALID_EMAIL) from None


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=EMAIL_MAX_LENGTH),
    AfterValidator(checked_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": EMAIL_MAX_LENGTH}),
]
