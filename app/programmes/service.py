"""Programmes: an edition run by an operator with a city and partners, and its calendar of phases.

Rules:
- Programmes and their calendars are public.
- Operator staff create programmes (their organisation runs them); platform admins too, naming the operator.
- The current phase is the one whose dates contain today in the programme's time zone.
- Default calendar (when none is given): three months of definition, two of call for proposals, then
  pre-selection, auditions, final decision, kick-off, nine months of prototyping, demo day, follow-up.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from app.accounts.models import Organisation
from app.accounts.service import slugify
from app.audit import service as audit
from app.db import utcnow
from app.errors import Forbidden, Invalid, NotFound
from app.programmes import permissions as can
from app.programmes.models import PHASE_ORDER, PhaseKind, Programme, ProgrammePartner, ProgrammePhase
from app.programmes.schemas import PhaseIn, ProgrammeCreate
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


def _check_organisations(session: Session, ids: dict[str, list[int]]) -> dict[str, list[Organisation]]:
    found: dict[str, list[Organisation]] = {}
    errors = {}
    for field_name, wanted in ids.items():
        rows = list(session.exec(select(Organisation).where(col(Organisation.id).in_(wanted or [-1]))))
        if len(rows) != len(set(wanted)):
            errors[field_name] = "Choose existing organisations."
        found[field_name] = rows
    if errors:
        raise Invalid(errors)
    return found


def create_programme(session: Session, actor: Actor, data: ProgrammeCreate) -> ProgrammeView:
    if not can.can_create_programme(actor):
        raise Forbidden("Only operator staff may create programmes.")
    operator_id = data.operator
    if operator_id is None:
        own = sorted(actor.organisation_ids("operator"))
        if not own:
            raise Invalid({"operator": "This field is required."})
        operator_id = own[0]
    if operator_id not in actor.organisation_ids("operator") and not (actor.user and actor.user.is_platform_admin):
        raise Forbidden("You may only create programmes for your own operator organisation.")
    try:
        ZoneInfo(data.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid({"timezone": "Choose a time zone such as Africa/Casablanca."}) from None
    orgs = _check_organisations(
        session, {"operator": [operator_id], "city": [data.city] if data.city else [], "partners": data.partners}
    )
    if orgs["operator"][0].kind != "operator":
        raise Invalid({"operator": "Choose an operator organisation."})
    if orgs["city"] and orgs["city"][0].kind != "city":
        raise Invalid({"city": "Choose a city organisation."})
    slug = data.slug or slugify(data.name)
    if session.exec(select(Programme.id).where(Programme.slug == slug)).first() is not None:
        raise Invalid({"slug": "This short name is already taken."})
    kinds = [p.kind for p in data.phases]
    if len(kinds) != len(set(kinds)):
        raise Invalid({"phases": "Each phase appears once."})
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
    phases = data.phases or default_calendar(utcnow().date())
    for phase in phases:
        session.add(
            ProgrammePhase(
                programme_id=programme.id or 0, kind=phase.kind, starts_on=phase.starts_on, ends_on=phase.ends_on
            )
        )
    session.flush()
    audit.record(session, "programme.created", actor=actor, target=("programme", programme.id))
    return _load(session, programme)
