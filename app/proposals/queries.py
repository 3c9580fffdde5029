"""Lists of proposals: a startup's own applications, the staff's listing of a challenge, the counts by status.

Each list selects in SQL the records that the predicates of permissions.py allow; records.py projects them.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, not_
from sqlmodel import Session, col, select

from app.accounts.models import Organisation, OrgKind
from app.challenges import service as challenges
from app.challenges.service import ChallengeView
from app.db import utcnow
from app.errors import NotFound
from app.proposals import permissions as can
from app.proposals.models import Proposal
from app.proposals.records import ProposalView, views_of
from app.search import contains_text
from app.security.actor import Actor


def startup_proposal(
    session: Session, actor: Actor, challenge: ChallengeView, startup_id: int | None = None
) -> Proposal | None:
    """The proposal of the actor's startup (the one given, or any of theirs) to this challenge, if any."""
    query = select(Proposal).where(Proposal.challenge_id == challenge.challenge.id, can.own_proposals(actor))
    if startup_id is not None:
        query = query.where(Proposal.startup_id == startup_id)
    return session.exec(query.order_by(col(Proposal.id))).first()


def is_applicant(session: Session, actor: Actor, challenge_id: int) -> bool:
    """Whether one of the actor's startups has a submitted (not withdrawn) proposal to the challenge."""
    if not actor.organisation_ids(OrgKind.startup):
        return False
    query = select(Proposal.id).where(
        Proposal.challenge_id == challenge_id, can.own_proposals(actor), can.submitted_proposals()
    )
    return session.exec(query).first() is not None


@dataclass
class ProposalFilters:
    challenge: int | None = None
    status: str | None = None


def list_my_proposals(session: Session, actor: Actor, filters: ProposalFilters | None = None) -> list[ProposalView]:
    """The proposals of the actor's startups ("my applications"), newest first."""
    if not actor.is_authenticated or not actor.organisation_ids(OrgKind.startup):
        return []
    query = select(Proposal).where(can.own_proposals(actor))
    if filters and filters.challenge:
        query = query.where(Proposal.challenge_id == filters.challenge)
    proposals = list(session.exec(query.order_by(col(Proposal.updated_at).desc(), col(Proposal.id).desc())))
    views = _with_challenges(session, actor, proposals)
    # filtered on the status as the startup may know it (records.STATUS_TOLD), not as stored
    return [v for v in views if v.status == filters.status] if filters and filters.status else views


def _with_challenges(session: Session, actor: Actor, proposals: list[Proposal]) -> list[ProposalView]:
    now = utcnow()
    challenge_views = {
        v.challenge.id or 0: v for v in challenges.views_for(session, sorted({p.challenge_id for p in proposals}))
    }
    return views_of(session, actor, proposals, challenge_views, now)


def list_visible_proposals(session: Session, actor: Actor, filters: ProposalFilters) -> list[ProposalView]:
    """For the API list: the actor's own proposals, plus the submitted ones to challenges they are staff of
    whose deadline has passed (selected by the SQL forms of the rules; the predicates check each row again)."""
    own = sorted(list_my_proposals(session, actor, filters), key=lambda v: v.proposal.id or 0)  # stable pages
    if not actor.is_authenticated:
        return own
    now = utcnow()
    query = select(Proposal).where(can.staff_readable_proposals(actor, now), not_(can.own_proposals(actor)))
    if filters.challenge:
        query = query.where(Proposal.challenge_id == filters.challenge)
    if filters.status:
        query = query.where(Proposal.status == filters.status)
    rows = list(session.exec(query.order_by(col(Proposal.id))))
    reviewed = [
        v
        for v in _with_challenges(session, actor, rows)
        if can.can_view_proposal(actor, v.proposal, v.challenge.challenge, staff=v.staff, now=now)
    ]
    return own + reviewed


@dataclass
class ChallengeProposals:
    """What the staff see of a challenge's proposals: counts always, the proposals after the deadline."""

    challenge: ChallengeView
    counts: dict[str, int]
    proposals: list[ProposalView]
    reviewable: bool

    @property
    def submitted_total(self) -> int:
        return sum(n for s, n in self.counts.items() if s in can.REVIEWABLE)


def challenge_proposals(
    session: Session,
    actor: Actor,
    challenge: ChallengeView,
    *,
    status: str | None = None,
    q: str | None = None,
    counts_only: bool = False,
) -> ChallengeProposals:
    """The staff's view of a challenge's proposals; `counts_only` for the challenge page, which shows counts."""
    if not challenge.is_staff(actor):
        raise NotFound()
    now = utcnow()
    counts = proposal_counts(session, actor, [challenge])[challenge.challenge.id or 0]
    reviewable = can.can_review_proposals(challenge.challenge, staff=True, now=now)
    proposals: list[ProposalView] = []
    if reviewable and not counts_only:
        query = select(Proposal).where(
            Proposal.challenge_id == challenge.challenge.id, can.staff_readable_proposals(actor, now)
        )
        if status:
            query = query.where(Proposal.status == status)
        if q:
            query = query.join(Organisation, col(Organisation.id) == Proposal.startup_id).where(
                contains_text(Organisation.name, q)
            )
        rows = list(session.exec(query.order_by(col(Proposal.submitted_at), col(Proposal.id))))
        proposals = views_of(session, actor, rows, {challenge.challenge.id or 0: challenge}, now)
    return ChallengeProposals(challenge, counts, proposals, reviewable)


def proposal_counts(session: Session, actor: Actor, views: Sequence[ChallengeView]) -> dict[int, dict[str, int]]:
    """The counts by status of the proposals to those of these challenges the actor is staff of (counts are
    all the staff see before the deadline), by challenge id, in one query; nothing of the others."""
    ids = [v.challenge.id or 0 for v in views if v.is_staff(actor)]
    out: dict[int, dict[str, int]] = {i: {} for i in ids}
    if not ids:
        return out
    for challenge_id, status, n in session.exec(
        select(Proposal.challenge_id, Proposal.status, func.count())
        .where(col(Proposal.challenge_id).in_(ids))
        .group_by(col(Proposal.challenge_id), col(Proposal.status))
    ).all():
        out[challenge_id][str(status)] = int(n)
    return out


@dataclass
class OwnApplications:
    """Where the actor's startups stand on one challenge: the proposals they have, those that may still apply."""

    proposals: list[tuple[Proposal, Organisation]]  # each with its startup
    applying: list[Organisation]  # the actor's startups without a proposal yet, by name


def own_applications(session: Session, actor: Actor, challenge: ChallengeView) -> OwnApplications:
    mine = actor.organisation_ids(OrgKind.startup) if actor.is_authenticated else set()
    startups = {o.id: o for o in session.exec(select(Organisation).where(col(Organisation.id).in_(mine or [-1])))}
    own = list(
        session.exec(
            select(Proposal)
            .where(Proposal.challenge_id == challenge.challenge.id, can.own_proposals(actor))
            .order_by(col(Proposal.id))
        )
    )
    applied = {p.startup_id for p in own}
    applying = sorted((o for i, o in startups.items() if i not in applied), key=lambda o: o.name.lower())
    return OwnApplications([(p, startups[p.startup_id]) for p in own], applying)
