"""Re-rendering a form with the user's input and the errors, in the user's language; lists typed as lines."""

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.errors import Invalid
from app.validation import InvalidInput
from app.web.templating import render

NEVER_ECHOED = frozenset({"password", "password_confirm", "current_password"})


def form_error(
    request: Request,
    template: str,
    form: dict[str, Any],
    error: Invalid,
    context: dict[str, Any] | None = None,
) -> HTMLResponse:
    kept = {k: v for k, v in form.items() if k not in NEVER_ECHOED}
    values = {"form": kept, "errors": error.errors, "error_vars": error.field_variables, "form_error": error.detail}
    values.update(context or {})
    return render(request, template, values, status_code=422)


def line_numbers(text: str) -> list[int]:
    """The number of the line each row of parse_lines comes from (blank lines make no row)."""
    return [number for number, line in enumerate(text.splitlines(), start=1) if line.strip()]


def parse_lines(text: str, keys: tuple[str, ...], field: str) -> list[dict[str, Any]]:
    """Rows of `keys` from lines of text separated by "|" (latitude and longitude read as numbers)."""
    rows = []
    lines = text.splitlines()
    for number in line_numbers(text):
        line = lines[number - 1]
        parts = [p.strip() for p in line.split("|")]
        if len(parts) > len(keys):
            raise Invalid({field: "Line %(line)s has too many “|” separators."}, line=number)
        row: dict[str, Any] = dict(zip(keys, parts, strict=False))
        for coordinate in ("latitude", "longitude"):
            if row.get(coordinate) == "":
                row.pop(coordinate)
            elif coordinate in row:
                try:
                    row[coordinate] = float(row[coordinate].replace(",", "."))
                except ValueError:
                    raise Invalid({field: "Line %(line)s: the coordinates must be numbers."}, line=number) from None
        rows.append(row)
    return rows


def join_lines(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> str:
    """The lines of text parse_lines reads back."""
    return "\n".join(
        " | ".join("" if row.get(k) is None else str(row.get(k)) for k in keys).rstrip(" |") for row in rows
    )


def on_lines(error: Invalid, form: dict[str, Any], problems: dict[str, str]) -> Invalid:
    """Errors on the rows of line fields ("kpis.2.target") moved to their field: `problems[field]`, a message
    with %(line)s, names the line the row came from. Other errors stay as they are."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    variables = error.field_variables
    for name, message in error.errors.items():
        head, _, rest = name.partition(".")
        index = rest.partition(".")[0]
        if head in problems and index.isdigit():
            numbers = line_numbers(str(form.get(head, "")))
            line = numbers[int(index)] if int(index) < len(numbers) else int(index) + 1
            errors.setdefault(head, (problems[head], {"line": line}))
        else:
            errors.setdefault(name, (message, variables.get(name, {})))
    moved = InvalidInput(errors)
    moved.detail, moved.variables = error.detail, error.variables
    return moved
