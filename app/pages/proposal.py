"""The parts of a proposal's page that come from the domains built on proposals: the auditions its startup is
called to (the pitch slot booked, or the link to book one), its outcomes once a round is published, with the
jury's comments, and its prototyping project (for its startup and the challenge's staff).

The proposal page is drawn by app/proposals/web.py, which imports none of those domains: create_app installs
these sections into it.
"""

from typing import Any

from sqlmodel import Session

from app.jury import slots
from app.projects import records as projects
from app.proposals import records as proposal_records
from app.proposals import web as proposals_web
from app.proposals.records import ProposalView
from app.security.actor import Actor
from app.selection import publication
from app.selection.models import DecisionKind


def auditions_section(session: Session, actor: Actor, view: ProposalView) -> dict[str, Any]:
    """The audition rounds the proposal is entered in, for its startup's members only."""
    if not view.reads_as_startup:
        return {"auditions": []}
    return {"auditions": slots.auditions(session, actor, view.proposal.id or 0, now=view.now)}


def outcomes_section(session: Session, actor: Actor, view: ProposalView) -> dict[str, Any]:
    """The proposal's outcome in each published round, with the jury's comments, for its startup's members only;
    its project for the challenge's staff, and for the startup once its selection is published (a project opens
    when the selection is confirmed, which may be before the outcomes are sent)."""
    proposal_id = view.proposal.id or 0
    outcomes = publication.outcomes(session, proposal_id) if view.reads_as_startup else []
    project = projects.projects_of_proposals(session, actor, [proposal_id]).get(proposal_id)
    if (
        view.reads_as_startup
        and not view.staff
        and not any(o.decision.decision == DecisionKind.selected for o in outcomes)
    ):
        project = None
    return {"outcomes": outcomes, "project": project}


SECTIONS: tuple[proposals_web.PageSection, ...] = (auditions_section, outcomes_section)


def install() -> None:
    """Have the proposal page draw these sections, and the startup read its status as it was last told
    (create_app calls it)."""
    proposals_web.PAGE_SECTIONS[:] = SECTIONS
    proposal_records.STATUS_TOLD[:] = [publication.told_statuses]
