"""Who may do what with proposals: small pure predicates, deny by default.

A proposal is confidential. Its startup's members see and edit it; the challenge's staff (sponsors' members,
the programme operator's members, platform admins) see it only once the challenge's deadline has passed and
only if it was submitted, and then only its last submitted version. Everyone else — other startups
included — may not know it exists (404). Before the deadline the staff see counts, never content.

A rule that also selects lists has its SQL form beside its predicate (a where clause on Proposal that picks the
same records): tests/test_proposal_permissions.py checks that each pair agrees.
"""

from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, or_
from sqlmodel import col, select

from app.accounts.models import OrgKind
from app.challenges import permissions as challenge_can
from app.challenges.models import Challenge, ChallengeStatus
from app.proposals.models import Proposal, ProposalStatus
from app.security.actor import Actor

REVIEWABLE = (
    ProposalStatus.submitted,
    ProposalStatus.eligible,
    ProposalStatus.ineligible,
    ProposalStatus.shortlisted,
    ProposalStatus.selected,
    ProposalStatus.rejected,
    ProposalStatus.waitlisted,
)


def deadline_passed(challenge: Challenge, now: datetime) -> bool:
    return challenge.deadline <= now


def is_open_for_proposals(challenge: Challenge, now: datetime) -> bool:
    return challenge.status == ChallengeStatus.published and not deadline_passed(challenge, now)


def is_startup_member(actor: Actor, proposal: Proposal) -> bool:
    return actor.is_authenticated and proposal.startup_id in actor.organisation_ids(OrgKind.startup)


def own_proposals(actor: Actor) -> ColumnElement[bool]:
    """The SQL form of is_startup_member: the proposals of the actor's startups."""
    mine = actor.organisation_ids(OrgKind.startup) if actor.is_authenticated else set()
    return col(Proposal.startup_id).in_(mine) if mine else false()


def was_submitted(proposal: Proposal) -> bool:
    """Submitted at least once and not withdrawn: the staff may read its last submitted version."""
    return proposal.status in REVIEWABLE


def submitted_proposals() -> ColumnElement[bool]:
    """The SQL form of was_submitted."""
    return col(Proposal.status).in_([s.value for s in REVIEWABLE])


def is_staff_readable(proposal: Proposal, challenge: Challenge, *, staff: bool, now: datetime) -> bool:
    """The challenge's staff read a proposal once the deadline has passed, if it was submitted."""
    return staff and deadline_passed(challenge, now) and was_submitted(proposal)


def staff_readable_proposals(actor: Actor, now: datetime) -> ColumnElement[bool]:
    """The SQL form of is_staff_readable (with `staff` the actor's being the challenge's staff)."""
    closed = select(Challenge.id).where(challenge_can.staff_challenges(actor), col(Challenge.deadline) <= now)
    return and_(submitted_proposals(), col(Proposal.challenge_id).in_(closed))


def can_view_proposal(actor: Actor, proposal: Proposal, challenge: Challenge, *, staff: bool, now: datetime) -> bool:
    return is_startup_member(actor, proposal) or is_staff_readable(proposal, challenge, staff=staff, now=now)


def visible_proposals(actor: Actor, now: datetime) -> ColumnElement[bool]:
    """The SQL form of can_view_proposal."""
    return or_(own_proposals(actor), staff_readable_proposals(actor, now))


def can_create_proposal(actor: Actor, challenge: Challenge, now: datetime) -> bool:
    return (
        actor.is_authenticated
        and bool(actor.organisation_ids(OrgKind.startup))
        and is_open_for_proposals(challenge, now)
    )


def can_edit_proposal(actor: Actor, proposal: Proposal, challenge: Challenge, now: datetime) -> bool:
    """The working copy is edited (and submitted) by the startup's members while the call is open."""
    return (
        is_startup_member(actor, proposal)
        and is_open_for_proposals(challenge, now)
        and proposal.status in (ProposalStatus.draft, ProposalStatus.submitted, ProposalStatus.withdrawn)
    )


def can_withdraw_proposal(actor: Actor, proposal: Proposal, challenge: Challenge, now: datetime) -> bool:
    return can_edit_proposal(actor, proposal, challenge, now) and proposal.status == ProposalStatus.submitted


def can_check_eligibility(
    actor: Actor, proposal: Proposal, challenge: Challenge, *, staff: bool, now: datetime
) -> bool:
    return (
        staff
        and deadline_passed(challenge, now)
        and proposal.status in (ProposalStatus.submitted, ProposalStatus.eligible, ProposalStatus.ineligible)
    )


def can_review_proposals(challenge: Challenge, *, staff: bool, now: datetime) -> bool:
    """The list of proposals, their pages and exports: the challenge's staff, after the deadline."""
    return staff and deadline_passed(challenge, now)
