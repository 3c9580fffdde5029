"""HTML pages of programmes: the public list and page with the calendar timeline, the operator's form."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session
from starlette.responses import Response

from app.accounts.models import OrgKind
from app.db import SessionDep, discard_attempt, utcnow
from app.errors import Invalid
from app.programmes import permissions as can
from app.programmes import service
from app.programmes.models import PHASE_ORDER, ProgrammePhase
from app.programmes.schemas import ProgrammeCreate, ProgrammeUpdate
from app.programmes.service import ProgrammeView
from app.security.actor import Actor
from app.validation import InvalidInput, parse, whole_number
from app.web.deps import ActorDep, FormDep, SignedInDep
from app.web.flash import flash
from app.web.forms import form_error
from app.web.templating import redirect, render

router = APIRouter()

DEFAULT_TIMEZONE = "Africa/Casablanca"
TIMEZONES = (
    "Africa/Casablanca",
    "Africa/Algiers",
    "Africa/Tunis",
    "Africa/Cairo",
    "Africa/Dakar",
    "Africa/Abidjan",
    "Africa/Lagos",
    "Africa/Nairobi",
    "Europe/Paris",
    "Europe/London",
    "UTC",
)
WIDTH = 1000  # the viewBox width of a timeline track
MIN_BAR = 6  # a one-day phase stays visible


# ---- the calendar as a timeline ---------------------------------------------------------------------------


@dataclass
class TimelineRow:
    phase: ProgrammePhase
    x: float
    width: float
    state: str  # past, current or future
    days: int


@dataclass
class Timeline:
    rows: list[TimelineRow]
    starts_on: date
    ends_on: date
    today: date
    today_x: float | None  # None when today is outside the calendar
    ticks: list[float]  # the first day of each month
    year_ticks: list[float]  # the first day of each year


def build_timeline(view: ProgrammeView, now: datetime, *, rtl: bool) -> Timeline | None:
    """Positions on a 0–1000 track, proportional to the dates; mirrored for right-to-left pages so that the
    calendar runs from the reading start (text stays upright: no SVG transform)."""
    if not view.phases or view.starts_on is None or view.ends_on is None:
        return None
    start, end = view.starts_on, view.ends_on
    total = (end - start).days + 1
    today = view.today(now)
    current = view.current_phase(now)

    def at(day: date, width: float = 0) -> float:
        x = (day - start).days / total * WIDTH
        return round(WIDTH - x - width if rtl else x, 2)

    rows = []
    for phase in view.phases:
        days = (phase.ends_on - phase.starts_on).days + 1
        width = max(days / total * WIDTH, MIN_BAR)
        state = "current" if phase is current else ("past" if phase.ends_on < today else "future")
        rows.append(
            TimelineRow(phase, min(max(at(phase.starts_on, width), 0), WIDTH - width), round(width, 2), state, days)
        )
    today_x = None
    if start <= today <= end:
        middle = ((today - start).days + 0.5) / total * WIDTH
        today_x = round(WIDTH - middle if rtl else middle, 2)
    ticks: list[float] = []
    year_ticks: list[float] = []
    month = date(start.year, start.month, 1)
    while month <= end:
        if month > start:
            (year_ticks if month.month == 1 else ticks).append(at(month))
        month = (month + timedelta(days=32)).replace(day=1)
    return Timeline(rows, start, end, today, today_x, ticks, year_ticks)


# ---- public pages ---------------------------------------------------------------------------------------


@router.get("/programmes", response_class=HTMLResponse)
def programme_list(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    views = service.list_programmes(session, actor)
    organisations = service.organisations_by_id(
        session, [i for v in views for i in (v.programme.operator_id, v.programme.city_id)]
    )
    return render(
        request,
        "programmes/list.html",
        {
            "views": views,
            "organisations": organisations,
            "now": utcnow(),
            "may_create": can.can_create_programme(actor),
        },
    )


# ---- the operator's form (declared before /programmes/{slug} so that "new" is not taken for a slug) --------


def _operator_choices(session: Session, actor: Actor) -> list[Any]:
    operators = service.organisations_of_kind(session, OrgKind.operator)
    return [o for o in operators if can.can_run_programme_for(actor, o.id or 0)]


def _form_context(session: Session, actor: Actor, view: ProgrammeView | None, form: dict[str, Any]) -> dict[str, Any]:
    timezones = list(TIMEZONES)
    wanted = str(form.get("timezone") or (view.programme.timezone if view else DEFAULT_TIMEZONE))
    if wanted not in timezones:
        timezones.append(wanted)  # an existing programme's own zone, or the (refused) input, stays visible
    return {
        "view": view,
        "operator_choices": _operator_choices(session, actor) if view is None else [],
        "operator": service.organisations_by_id(session, [view.programme.operator_id]).get(view.programme.operator_id)
        if view
        else None,
        "city_choices": service.organisations_of_kind(session, OrgKind.city),
        "partner_choices": service.organisations_of_kind(session, OrgKind.partner),
        "timezones": timezones,
        "phase_kinds": [kind.value for kind in PHASE_ORDER],
    }


def _phase_fields(phases: list[Any]) -> dict[str, str]:
    fields = {}
    for phase in phases:
        kind = getattr(phase.kind, "value", phase.kind)
        fields[f"starts_on-{kind}"] = phase.starts_on.isoformat()
        fields[f"ends_on-{kind}"] = phase.ends_on.isoformat()
    return fields


def _number(value: object) -> int | None:
    """An id chosen in the form. Out-of-range ids are left to the schema, which names the field; what is not a
    number at all (or too long to be one) is no choice."""
    return whole_number(value, max_digits=18)


def _fields_from_form(form: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The service input from the submitted form, and the errors of dates it cannot read."""
    data: dict[str, Any] = {name: str(form.get(name, "")) for name in ("name", "slug", "description", "timezone")}
    if not data["slug"]:
        data.pop("slug")
    if (operator := _number(form.get("operator", ""))) is not None:
        data["operator"] = operator
    data["city"] = _number(form.get("city", ""))
    partners = form.get("partners", [])
    chosen = (_number(p) for p in (partners if isinstance(partners, list) else [partners]))
    data["partners"] = [p for p in chosen if p is not None]
    phases, errors = [], {}
    for kind in PHASE_ORDER:
        starts = str(form.get(f"starts_on-{kind.value}", "")).strip()
        ends = str(form.get(f"ends_on-{kind.value}", "")).strip()
        if not starts and not ends:
            continue
        if not starts or not ends:
            errors[f"phases.{kind.value}"] = "Enter both dates, or leave both empty to leave this phase out."
            continue
        try:
            phases.append({"kind": kind, "starts_on": date.fromisoformat(starts), "ends_on": date.fromisoformat(ends)})
        except ValueError:
            errors[f"phases.{kind.value}"] = "Enter valid dates, such as 2027-01-31."
    data["phases"] = phases
    return data, errors


def _parse(model: type[Any], data: dict[str, Any], date_errors: dict[str, str]) -> Any:
    """Parse the form; every problem of the form itself is reported at once, a phase's under its kind."""
    try:
        parsed = parse(model, data)
    except InvalidInput as exc:
        kinds = [phase["kind"].value for phase in data["phases"]]
        errors: dict[str, tuple[str, dict[str, Any]]] = {}
        for name, message in exc.errors.items():
            field, _, position = name.partition(".")
            variables = exc.field_variables.get(name, {})
            if field == "phases" and position.split(".")[0].isdigit():
                name = f"phases.{kinds[int(position.split('.')[0])]}"
            elif field in ("partners", "city", "operator"):
                name = field
            errors.setdefault(name, (message, variables))
        raise InvalidInput({**{name: (message, {}) for name, message in date_errors.items()}, **errors}) from None
    if date_errors:
        raise Invalid(date_errors)
    return parsed


def _local_today(timezone: str = DEFAULT_TIMEZONE) -> date:
    return utcnow().astimezone(ZoneInfo(timezone)).date()


@router.get("/programmes/new", response_class=HTMLResponse)
def programme_new(request: Request, session: SessionDep, actor: SignedInDep) -> Response:
    service.require_programme_creator(actor)
    form = {"timezone": DEFAULT_TIMEZONE, **_phase_fields(service.default_calendar(_local_today()))}
    return render(request, "programmes/form.html", {**_form_context(session, actor, None, form), "form": form})


@router.post("/programmes/new", response_class=HTMLResponse)
def programme_create(request: Request, session: SessionDep, actor: SignedInDep, form: FormDep) -> Response:
    service.require_programme_creator(actor)
    try:
        data, date_errors = _fields_from_form(form)
        view = service.create_programme(session, actor, _parse(ProgrammeCreate, data, date_errors))
    except Invalid as exc:
        discard_attempt(session)
        return form_error(request, "programmes/form.html", form, exc, _form_context(session, actor, None, form))
    flash(request, "The programme %(name)s is created.", name=view.programme.name)
    return redirect(request, f"/programmes/{view.programme.slug}")


def form_from_view(view: ProgrammeView) -> dict[str, Any]:
    p = view.programme
    return {
        "name": p.name,
        "slug": p.slug,
        "description": p.description,
        "city": str(p.city_id or ""),
        "partners": [str(i) for i in sorted(view.partner_ids)],
        "timezone": p.timezone,
        **_phase_fields(view.phases),
    }


@router.get("/programmes/{programme_slug}/edit", response_class=HTMLResponse)
def programme_edit(request: Request, session: SessionDep, actor: SignedInDep, programme_slug: str) -> Response:
    view = service.get_editable_programme(session, actor, programme_slug)
    form = form_from_view(view)
    return render(request, "programmes/form.html", {**_form_context(session, actor, view, form), "form": form})


@router.post("/programmes/{programme_slug}/edit", response_class=HTMLResponse)
def programme_update(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, programme_slug: str
) -> Response:
    view = service.get_editable_programme(session, actor, programme_slug)
    try:
        data, date_errors = _fields_from_form(form)
        data.pop("operator", None)
        view = service.update_programme(session, actor, view, _parse(ProgrammeUpdate, data, date_errors))
    except Invalid as exc:
        discard_attempt(session)
        view = service.get_editable_programme(session, actor, programme_slug)
        return form_error(request, "programmes/form.html", form, exc, _form_context(session, actor, view, form))
    flash(request, "The programme is saved.")
    return redirect(request, f"/programmes/{view.programme.slug}")
