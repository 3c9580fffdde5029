"""The challenge form: from HTML form fields to the service's input shape and back.

KPIs and test sites are edited as lines of text ("name | unit | baseline | target"), which works without
JavaScript; dates are typed in the programme's time zone.
"""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.errors import Invalid
from app.validation import whole_number
from app.web.forms import join_lines, on_lines, parse_lines

KPI_KEYS = ("name", "unit", "baseline", "target")
SITE_KEYS = ("name", "address", "latitude", "longitude")
LINE_PROBLEMS = {
    "kpis": "Line %(line)s: write “name | unit | baseline | target”; the name and the target are required.",
    "test_sites": "Line %(line)s: write “name | address | latitude | longitude”; the name is required, the latitude is from -90 to 90 and the longitude from -180 to 180.",  # noqa: E501
}


def _local_datetime(value: str, tz: ZoneInfo, field: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Invalid({field: "Enter a valid date and time."}) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def fields_from_form(form: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """The service input from a submitted challenge form. Raises Invalid for lines it cannot read."""
    data: dict[str, Any] = {}
    for name in (
        "title",
        "slug",
        "summary",
        "problem",
        "context",
        "expected_outcome",
        "eligibility",
        "ip_terms",
        "note",
    ):
        if name in form:
            data[name] = str(form[name])
    if data.get("slug") == "":
        data.pop("slug")
    for name in ("deadline", "qa_closes_at"):
        if name in form:
            data[name] = _local_datetime(str(form[name]), tz, name)
    themes = form.get("themes", [])
    data["themes"] = themes if isinstance(themes, list) else [themes]
    for name in ("sdgs", "sponsors"):
        values = form.get(name, [])
        numbers = (whole_number(v) for v in (values if isinstance(values, list) else [values]))
        data[name] = [n for n in numbers if n is not None]
    data["kpis"] = parse_lines(str(form.get("kpis", "")), KPI_KEYS, "kpis")
    data["test_sites"] = parse_lines(str(form.get("test_sites", "")), SITE_KEYS, "test_sites")
    for name in ("programme", "lead_sponsor"):
        number = whole_number(form.get(name, ""))
        if number is not None:
            data[name] = number
    return data


def form_errors(error: Invalid, form: dict[str, Any]) -> Invalid:
    """The errors of a submitted challenge form, those on a KPI or test-site row named by its line."""
    return on_lines(error, form, LINE_PROBLEMS)


def form_from_view(view: Any, ip_terms: str) -> dict[str, Any]:
    """The form's initial values for an existing challenge, dates in the programme's time zone."""
    c = view.challenge
    tz = ZoneInfo(view.programme.timezone)
    return {
        "title": c.title,
        "slug": c.slug,
        "summary": c.summary,
        "problem": c.problem,
        "context": c.context,
        "expected_outcome": c.expected_outcome,
        "eligibility": c.eligibility,
        "ip_terms": ip_terms,
        "deadline": c.deadline.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
        "qa_closes_at": c.qa_closes_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if c.qa_closes_at else "",
        "themes": list(c.themes),
        "sdgs": [str(s) for s in c.sdgs],
        "sponsors": [str(o.id) for o in view.co_sponsors],
        "kpis": join_lines(c.kpis, KPI_KEYS),
        "test_sites": join_lines(c.test_sites, SITE_KEYS),
        "revision": str(c.revision),
    }
