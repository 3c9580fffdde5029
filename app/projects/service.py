"""Opening a prototyping project for a confirmed selection.

Rules:
- A proposal has at most one project (a unique column): opening it again, say after a startup first selected,
  then superseded and selected again, returns the one already opened, active again.
- A confirmed selection replaced by a confirmed decision of another kind (before publication: the staff
  changed their minds) stops its project; being selected again makes it active again.
- Its title is the proposal's; it runs over the programme's prototyping phase, or, when the programme's
  calendar has none, for nine months from the day it opens.
- Opened by the selection's confirmation only (app/selection/decisions.py), which checks who may confirm: this
  service does not check again.
"""

import calendar
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.audit import service as audit
from app.challenges.models import Challenge
from app.db import utcnow
from app.programmes.models import PhaseKind, ProgrammePhase
from app.projects.models import Project, ProjectStatus
from app.proposals.models import Proposal
from app.security.actor import Actor

DEFAULT_MONTHS = 9


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def prototyping_dates(session: Session, challenge: Challenge, today: date) -> tuple[date, date]:
    phase = session.exec(
        select(ProgrammePhase).where(
            ProgrammePhase.programme_id == challenge.programme_id, ProgrammePhase.kind == PhaseKind.prototyping
        )
    ).first()
    if phase is not None:
        return phase.starts_on, phase.ends_on
    return today, add_months(today, DEFAULT_MONTHS)


def project_of(session: Session, proposal_id: int) -> Project | None:
    return session.exec(select(Project).where(Project.proposal_id == proposal_id)).first()


def open_project(session: Session, actor: Actor, proposal: Proposal, *, decision_id: int | None) -> Project:
    """The proposal's project, opened now unless it is open already (see the module's rules)."""
    found = project_of(session, proposal.id or 0)
    if found is not None:
        if found.status == ProjectStatus.stopped:
            found.status, found.decision_id = ProjectStatus.active, decision_id
            session.add(found)
            session.flush()
            audit.record(session, "project.reopened", actor=actor, target=("project", found.id), decision=decision_id)
        return found
    challenge = session.get(Challenge, proposal.challenge_id)
    assert challenge is not None
    starts_on, ends_on = prototyping_dates(session, challenge, utcnow().date())
    project = Project(
        proposal_id=proposal.id or 0,
        startup_id=proposal.startup_id,
        challenge_id=proposal.challenge_id,
        decision_id=decision_id,
        title=(proposal.title or "")[:200],
        starts_on=starts_on,
        ends_on=ends_on,
    )
    try:
        with session.begin_nested():
            session.add(project)
            session.flush()
    except IntegrityError:  # opened by a concurrent confirmation in between: that one stands
        found = project_of(session, proposal.id or 0)
        if found is None:
            raise
        return found
    target = ("project", project.id)
    audit.record(session, "project.opened", actor=actor, target=target, proposal=proposal.id, decision=decision_id)
    return project


def selection_replaced(session: Session, actor: Actor, proposal: Proposal, *, decision_id: int | None) -> None:
    """The proposal's selection is no longer in force (see the module's rules): its active project stops."""
    found = project_of(session, proposal.id or 0)
    if found is None or found.status != ProjectStatus.active:
        return
    found.status = ProjectStatus.stopped
    session.add(found)
    session.flush()
    audit.record(
        session,
        "project.stopped",
        actor=actor,
        target=("project", found.id),
        proposal=proposal.id,
        decision=decision_id,
    )
