"""Programmes: an edition run by an operator with a city and partners, and its calendar of phases.

Rules:
- Programmes and their calendars are public.
- Operator staff create programmes (their organisation runs them); platform admins too, naming the operator.
- Operator staff of the programme and platform admins edit it; its operator organisation never changes.
- The city must be a city organisation and the partners partner organisations; the time zone an IANA name.
- The calendar has each phase at most once, in the order of PhaseKind; a phase ends on or after its start
  and starts no earlier than the phase before it (phases may overlap, e.g. demo day within prototyping).
- The current phase is the one whose dates contain today in the programme's time zone.
- `medina import` writes programmes through import_programme (a trusted operator action, no actor): the
  same fields, partners and calendar, compared before writing so that the same files change nothing.
- Default calendar (when none is given): three months of definition, two of call for proposals, then
  pre-selection, auditions, final decision, kick-off, nine months of prototyping, demo day, follow-up.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from app.accounts.models import Organisation, OrgKind
from app.accounts.service import slugify
from app.audit import service as audit
from app.db import utcnow
from app.errors import Forbidden, Invalid, NotFound
from app.programmes import permissions as can
from app.programmes.models import PHASE_ORDER, PhaseKind, Programme, ProgrammePartner, ProgrammePhase
from app.programmes.schemas import PhaseIn, ProgrammeCreate, ProgrammeUpdate
from app.security.actor import Actor


@dataclass
class ProgrammeView:
    programme: Programme
    partner_ids: set[int] = field(default_factory=set)
    phases: list[ProgrammePhase] = field(default_factory=list)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.programme.timezone)

    def today(self, now: datetime | None = None) -> date:
        return (now or utcnow()).astimezone(self.tz).date()

    def current_phase(self, now: datetime | None = None) -> ProgrammePhase | None:
        today = self.today(now)
        for phase in self.phases:
            if phase.starts_on <= today <= phase.ends_on:
                return phase
        return None

    @property
    def starts_on(self) -> date | None:
        return min((p.starts_on for p in self.phases), default=None)

    @property
    def ends_on(self) -> date | None:
        return max((p.ends_on for p in self.phases), default=None)

    def stage(self, now: datetime | None = None) -> str:
        """ "upcoming" before the first phase, "over" after the last, else "running"."""
        today = self.today(now)
        if self.starts_on is None or self.ends_on is None:
            return "upcoming"
        if today < self.starts_on:
            return "upcoming"
        return "over" if today > self.ends_on else "running"


RESERVED_SLUGS = frozenset({"new"})  # /programmes/new is the creation form


def default_calendar(start: date) -> list[PhaseIn]:
    months = [
        (PhaseKind.definition, 90),
        (PhaseKind.call, 60),
        (PhaseKind.preselection, 30),
        (PhaseKind.auditions, 14),
        (PhaseKind.final_decision, 14),
        (PhaseKind.kickoff, 7),
        (PhaseKind.prototyping, 270),
        (PhaseKind.demo_day, 1),
        (PhaseKind.follow_up, 180),
    ]
    phases, day = [], start
    for kind, length in months:
        phases.append(PhaseIn(kind=kind, starts_on=day, ends_on=day + timedelta(days=length - 1)))
        day += timedelta(days=length)
    return phases


def _load(session: Session, programme: Programme) -> ProgrammeView:
    partners = set(
        session.exec(
            select(ProgrammePartner.organisation_id).where(ProgrammePartner.programme_id == programme.id)
        ).all()
    )
    phases = list(session.exec(select(ProgrammePhase).where(ProgrammePhase.programme_id == programme.id)))
    phases.sort(key=lambda p: PHASE_ORDER.index(PhaseKind(p.kind)))
    return ProgrammeView(programme=programme, partner_ids=partners, phases=phases)


def get_programme(session: Session, actor: Actor, programme_id: int) -> ProgrammeView:
    programme = session.get(Programme, programme_id)
    if programme is None or not can.can_view_programme(actor, programme):
        raise NotFound()
    return _load(session, programme)


def get_programme_by_slug(session: Session, actor: Actor, slug: str) -> ProgrammeView:
    programme = session.exec(select(Programme).where(Programme.slug == slug)).first()
    if programme is None or not can.can_view_programme(actor, programme):
        raise NotFound()
    return _load(session, programme)


def get_editable_programme(session: Session, actor: Actor, slug: str) -> ProgrammeView:
    """A programme for its edit form: 404 for anyone who may not edit it."""
    view = get_programme_by_slug(session, actor, slug)
    if not can.can_edit_programme(actor, view.programme):
        raise NotFound()
    return view


def require_programme_creator(actor: Actor) -> None:
    """The new-programme form exists only for those who may create programmes (404 for others)."""
    if not can.can_create_programme(actor):
        raise NotFound()


def list_programmes(session: Session, actor: Actor) -> list[ProgrammeView]:
    programmes = list(session.exec(select(Programme).order_by(col(Programme.id).desc())))
    ids = [p.id for p in programmes]
    partners: dict[int, set[int]] = {}
    for row in session.exec(select(ProgrammePartner).where(col(ProgrammePartner.programme_id).in_(ids or [-1]))):
        partners.setdefault(row.programme_id, set()).add(row.organisation_id)
    phases: dict[int, list[ProgrammePhase]] = {}
    for phase in session.exec(select(ProgrammePhase).where(col(ProgrammePhase.programme_id).in_(ids or [-1]))):
        phases.setdefault(phase.programme_id, []).append(phase)
    views = []
    for programme in programmes:
        own = sorted(phases.get(programme.id or 0, []), key=lambda p: PHASE_ORDER.index(PhaseKind(p.kind)))
        views.append(ProgrammeView(programme, partners.get(programme.id or 0, set()), own))
    return views


def organisations_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, Organisation]:
    """The organisations behind operator, city and partner ids, for display."""
    wanted = {i for i in ids if i is not None}
    rows = session.exec(select(Organisation).where(col(Organisation.id).in_(wanted or [-1])))
    return {o.id or 0: o for o in rows}


def organisations_of_kind(session: Session, kind: OrgKind) -> list[Organisation]:
    return list(session.exec(select(Organisation).where(Organisation.kind == kind).order_by(col(Organisation.name))))


def _check_timezone(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "Choose a time zone such as Africa/Casablanca."
    return None


def _check_phases(phases: list[PhaseIn]) -> dict[str, str]:
    """Errors keyed `phases.<kind>` (or `phases` for a repeated phase)."""
    kinds = [p.kind for p in phases]
    if len(kinds) != len(set(kinds)):
        return {"phases": "Each phase appears once."}
    errors: dict[str, str] = {}
    previous: PhaseIn | None = None
    for phase in sorted(phases, key=lambda p: PHASE_ORDER.index(p.kind)):
        if phase.ends_on < phase.starts_on:
            errors[f"phases.{phase.kind.value}"] = "A phase cannot end before it starts."
        elif previous is not None and phase.starts_on < previous.starts_on:
            errors[f"phases.{phase.kind.value}"] = "A phase cannot start before the phase that comes before it."
        previous = phase
    return errors


def _check_organisations(session: Session, city: int | None, partners: list[int]) -> dict[str, str]:
    found = organisations_by_id(session, [city, *partners])
    errors = {}
    if city is not None and (city not in found or not can.can_be_city(found[city])):
        errors["city"] = "Choose a city organisation."
    if any(p not in found or not can.can_be_partner(found[p]) for p in partners):
        errors["partners"] = "Choose partner organisations."
    return errors


def _slug_taken(session: Session, slug: str, programme_id: int | None = None) -> bool:
    if slug in RESERVED_SLUGS:
        return True
    query = select(Programme.id).where(Programme.slug == slug)
    if programme_id is not None:
        query = query.where(Programme.id != programme_id)
    return session.exec(query).first() is not None


def _slug_from_name(name: str) -> str:
    slug = slugify(name)
    return "programme" if slug == "organisation" and "organisation" not in name.lower() else slug


def _save_phases(session: Session, programme_id: int, phases: list[PhaseIn]) -> None:
    for phase in phases:
        session.add(
            ProgrammePhase(programme_id=programme_id, kind=phase.kind, starts_on=phase.starts_on, ends_on=phase.ends_on)
        )


def create_programme(session: Session, actor: Actor, data: ProgrammeCreate) -> ProgrammeView:
    if not can.can_create_programme(actor):
        raise Forbidden("Only operator staff may create programmes.")
    operator_id = data.operator
    if operator_id is None:
        own = sorted(actor.organisation_ids(OrgKind.operator))
        if not own:
            raise Invalid({"operator": "This field is required."})
        operator_id = own[0]
    if not can.can_run_programme_for(actor, operator_id):
        raise Forbidden("You may only create programmes for your own operator organisation.")
    errors: dict[str, str] = {}
    operator = session.get(Organisation, operator_id)
    if operator is None or not can.can_be_operator(operator):
        errors["operator"] = "Choose an operator organisation."
    if problem := _check_timezone(data.timezone):
        errors["timezone"] = problem
    errors.update(_check_organisations(session, data.city, data.partners))
    slug = data.slug or _slug_from_name(data.name)
    if _slug_taken(session, slug):
        errors["slug"] = "This short name is already taken."
    errors.update(_check_phases(data.phases))
    if errors:
        raise Invalid(errors)
    programme = Programme(
        slug=slug,
        name=data.name,
        description=data.description,
        operator_id=operator_id,
        city_id=data.city,
        timezone=data.timezone,
    )
    session.add(programme)
    session.flush()
    for partner in set(data.partners):
        session.add(ProgrammePartner(programme_id=programme.id or 0, organisation_id=partner))
    _save_phases(session, programme.id or 0, data.phases or default_calendar(utcnow().date()))
    session.flush()
    audit.record(session, "programme.created", actor=actor, target=("programme", programme.id))
    return _load(session, programme)


def update_programme(session: Session, actor: Actor, view: ProgrammeView, data: ProgrammeUpdate) -> ProgrammeView:
    """Apply a partial change; `partners` and `phases`, when given, replace the whole list."""
    programme = view.programme
    if not can.can_edit_programme(actor, programme):
        raise Forbidden("Only the programme's operator may edit it.")
    given = data.model_fields_set
    errors: dict[str, str] = {
        name: "This field is required."
        for name in ("name", "slug", "description", "partners", "timezone", "phases")
        if name in given and getattr(data, name) is None
    }
    city = data.city if "city" in given else programme.city_id
    partners = data.partners if data.partners is not None else sorted(view.partner_ids)
    if data.timezone is not None and (problem := _check_timezone(data.timezone)):
        errors["timezone"] = problem
    errors.update(_check_organisations(session, city, partners))
    if data.slug is not None and data.slug != programme.slug and _slug_taken(session, data.slug, programme.id):
        errors["slug"] = "This short name is already taken."
    if data.phases is not None:
        errors.update(_check_phases(data.phases))
    if errors:
        raise Invalid(errors)
    changed = []
    for name, value in (
        ("name", data.name),
        ("slug", data.slug),
        ("description", data.description),
        ("timezone", data.timezone),
    ):
        if value is not None and value != getattr(programme, name):
            setattr(programme, name, value)
            changed.append(name)
    if city != programme.city_id:
        programme.city_id = city
        changed.append("city")
    if data.partners is not None and set(data.partners) != view.partner_ids:
        for row in session.exec(select(ProgrammePartner).where(ProgrammePartner.programme_id == programme.id)):
            session.delete(row)
        session.flush()
        for partner in set(data.partners):
            session.add(ProgrammePartner(programme_id=programme.id or 0, organisation_id=partner))
        changed.append("partners")
    if data.phases is not None:
        old = {(p.kind, p.starts_on, p.ends_on) for p in view.phases}
        if old != {(p.kind.value, p.starts_on, p.ends_on) for p in data.phases}:
            for phase in view.phases:
                session.delete(phase)
            session.flush()
            _save_phases(session, programme.id or 0, data.phases)
            changed.append("phases")
    if changed:
        programme.updated_at = utcnow()
        session.add(programme)
        session.flush()
        audit.record(session, "programme.updated", actor=actor, target=("programme", programme.id), fields=changed)
    return _load(session, programme)


def import_programme(
    session: Session,
    programme: Programme | None,
    slug: str,
    data: ProgrammeCreate,
    *,
    operator_id: int,
    city_id: int | None,
    partner_ids: set[int],
) -> tuple[Programme, list[str]]:
    """Create the programme of an imported folder (`programme` None) or bring it in line with the files.
    The folder's reader validated `data` and the organisations. Returns the programme and what changed
    (["created"] for a new one, [] when nothing did)."""
    values: dict[str, Any] = {
        "name": data.name,
        "description": data.description,
        "operator_id": operator_id,
        "city_id": city_id,
        "timezone": data.timezone,
    }
    phases = {p.kind.value: (p.starts_on, p.ends_on) for p in data.phases}
    created = programme is None
    if programme is None:
        programme = Programme(slug=slug, **values)
        session.add(programme)
        session.flush()
        changed = ["created"]
    else:
        changed = [name for name, value in values.items() if getattr(programme, name) != value]
        for name in changed:
            setattr(programme, name, values[name])
    programme_id = programme.id or 0
    current_partners = {
        partner.organisation_id: partner
        for partner in session.exec(select(ProgrammePartner).where(ProgrammePartner.programme_id == programme_id))
    }
    if set(current_partners) != partner_ids:
        for organisation_id, partner in current_partners.items():
            if organisation_id not in partner_ids:
                session.delete(partner)
        for organisation_id in partner_ids - set(current_partners):
            session.add(ProgrammePartner(programme_id=programme_id, organisation_id=organisation_id))
        changed.append("partners")
    current_phases = {
        row.kind: row for row in session.exec(select(ProgrammePhase).where(ProgrammePhase.programme_id == programme_id))
    }
    if {k: (r.starts_on, r.ends_on) for k, r in current_phases.items()} != phases:
        for kind, old in current_phases.items():
            if kind not in phases:
                session.delete(old)
        session.flush()
        for kind, (starts_on, ends_on) in phases.items():
            row = current_phases.get(kind)
            if row is None:
                session.add(ProgrammePhase(programme_id=programme_id, kind=kind, starts_on=starts_on, ends_on=ends_on))
            elif (row.starts_on, row.ends_on) != (starts_on, ends_on):
                row.starts_on, row.ends_on = starts_on, ends_on
                session.add(row)
        changed.append("phases")
    if changed and not created:
        programme.updated_at = utcnow()
    if changed:
        session.add(programme)
        session.flush()
        audit.record(session, "programme.imported", target=("programme", programme.id), fields=changed)
    return programme, changed
