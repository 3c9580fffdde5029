"""Publishing a round's outcomes: each startup learns its outcome with the jury's feedback, the round becomes
decided, and the challenge's public page lists the selected startups.

Rules:
- Who and when: selection.permissions.can_publish (the staff, the round closed, the publisher conflicted with
  none of its startups). Every live entry must have a decision in force: else 409, saying how many lack one.
- The startup's email goes to each of its active members, each in their own language, queued in the
  publication's transaction (the outbox): a refused publication sends nothing. It holds the outcome and the
  comments the jurors wrote for the startup (a review's comment and its comments per criterion, named by their
  criterion) — never a juror's name, never a juror's private note, never a staff note or a decision's
  rationale.
- A promotion from the waiting list confirmed after publication (decisions.confirm) emails the startup its new
  outcome, with the same feedback.
- What the public sees (selected_startups): the startups whose `selected` decision is in force in a published
  round of the challenge, nothing before publication.
- What the startup reads on its proposal page (outcomes): the decision in force in each published round, with
  the feedback. The proposal's status, set when a decision is confirmed, is read by its startup as it was last
  told (told_statuses): the outcome of the last decision sent to it, or `eligible` before any.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.accounts.models import Membership, Organisation, User
from app.audit import service as audit
from app.config import site_url
from app.db import utcnow
from app.errors import Conflict, NotFound
from app.i18n import N_
from app.jury import records as jury_records
from app.jury import service as jury_service
from app.jury.models import JuryAssignment, JuryCriterion, JuryEntry, JuryReview, JuryRound, ReviewStatus, RoundStatus
from app.jury.records import RoundView
from app.notifications import service as notifications
from app.proposals.models import Proposal, ProposalStatus
from app.security.actor import Actor
from app.selection import permissions as can
from app.selection.models import DECISION_LABELS, DecisionKind, DecisionStatus, SelectionDecision

SUBJECTS = {
    DecisionKind.selected: N_("Your proposal is selected: %(challenge)s"),
    DecisionKind.shortlisted: N_("Your proposal goes on to the next round: %(challenge)s"),
    DecisionKind.waitlisted: N_("Your proposal is on the waiting list: %(challenge)s"),
    DecisionKind.rejected: N_("The outcome of your proposal: %(challenge)s"),
}
CONFLICTED = N_("You are in conflict of interest with a startup of this round: a colleague publishes it.")
LACKING = N_("Proposals without a confirmed decision: %(count)s. Confirm one for each before publishing.")


@dataclass(frozen=True)
class Comment:
    """One juror's comments for the startup (who wrote them is never kept here)."""

    comment: str
    per_criterion: tuple[tuple[str, str], ...]  # (criterion name, comment)


def feedback(session: Session, entry_ids: Sequence[int]) -> dict[int, list[Comment]]:
    """Per entry, the comments its submitted reviews hold for the startup, in review order."""
    found: dict[int, list[Comment]] = {entry_id: [] for entry_id in entry_ids}
    rows = session.exec(
        select(JuryAssignment.entry_id, JuryReview.comment, JuryReview.criterion_comments, JuryAssignment.round_id)
        .join(JuryReview, col(JuryReview.assignment_id) == JuryAssignment.id)
        .where(col(JuryAssignment.entry_id).in_(list(entry_ids) or [-1]), JuryReview.status == ReviewStatus.submitted)
        .order_by(col(JuryReview.id))
    ).all()
    round_ids = {r for *_, r in rows}
    names = {
        str(c.id): c.name
        for c in session.exec(select(JuryCriterion).where(col(JuryCriterion.round_id).in_(round_ids or {-1})))
    }
    order = {key: i for i, key in enumerate(names)}
    for entry_id, comment, per_criterion, _ in rows:
        written = tuple(
            (names[key], str(text).strip())
            for key, text in sorted(per_criterion.items(), key=lambda kv: order.get(kv[0], len(order)))
            if key in names and str(text or "").strip()
        )
        if comment.strip() or written:
            found[entry_id].append(Comment(comment.strip(), written))
    return found


def _members(session: Session, startup_ids: set[int]) -> dict[int, list[User]]:
    found: dict[int, list[User]] = {s: [] for s in startup_ids}
    for organisation_id, user in session.exec(
        select(Membership.organisation_id, User)
        .join(User, col(User.id) == Membership.user_id)
        .where(col(Membership.organisation_id).in_(startup_ids or {-1}), col(User.is_active).is_(True))
        .order_by(col(User.id))
    ):
        found[organisation_id].append(user)
    return found


def _send(
    session: Session,
    view: RoundView,
    decision: SelectionDecision,
    proposal: Proposal,
    startup: Organisation,
    members: Sequence[User],
    comments: list[Comment],
    *,
    promoted: bool,
) -> None:
    notifications.email_each(
        session,
        members,
        SUBJECTS[DecisionKind(decision.decision)],
        "emails/selection_outcome.txt",
        subject_vars={"challenge": view.challenge.challenge.title},
        decision=decision.decision,
        outcome=DECISION_LABELS[DecisionKind(decision.decision)],
        promoted=promoted,
        round=view.round,
        challenge=view.challenge.challenge,
        title=proposal.title,
        startup=startup.name,
        comments=comments,
        link=site_url(f"/proposals/{proposal.id}"),
    )
    decision.notified_at = utcnow()
    session.add(decision)


def _lock_round(session: Session, round_id: int) -> JuryRound:
    """The round's row, locked (PostgreSQL) and read afresh: two publications at once send one set of emails."""
    found = session.exec(
        select(JuryRound).where(JuryRound.id == round_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if found is None:
        raise NotFound()
    return found


def publish(session: Session, actor: Actor, round_id: int) -> RoundView:
    view = jury_records.get_managed_round(session, actor, round_id)
    round_ = _lock_round(session, view.id)
    entries = session.exec(
        select(JuryEntry, Proposal, Organisation)
        .join(Proposal, col(Proposal.id) == JuryEntry.proposal_id)
        .join(Organisation, col(Organisation.id) == Proposal.startup_id)
        .where(JuryEntry.round_id == view.id, col(JuryEntry.excluded_at).is_(None))
        .order_by(col(JuryEntry.id))
    ).all()
    conflicted = bool(jury_records.reader_conflicts(session, actor, {o.id or 0 for _, _, o in entries}))
    if not can.can_publish(round_, staff=view.staff, now=view.now, conflicted=conflicted):
        if conflicted:
            raise Conflict(CONFLICTED)
        if round_.status == RoundStatus.decided:
            raise Conflict("The outcomes of this round are published already.")
        raise Conflict("A round's outcomes are published once it is closed.")
    in_force = {
        d.entry_id: d
        for d in session.exec(
            select(SelectionDecision).where(
                SelectionDecision.round_id == view.id, SelectionDecision.status == DecisionStatus.confirmed
            )
        )
    }
    lacking = sum(1 for e, _, _ in entries if (e.id or 0) not in in_force)
    if lacking:
        raise Conflict(LACKING, count=lacking)
    comments = feedback(session, [e.id or 0 for e, _, _ in entries])
    members = _members(session, {o.id or 0 for _, _, o in entries})
    for entry, proposal, startup in entries:
        _send(
            session,
            view,
            in_force[entry.id or 0],
            proposal,
            startup,
            members[startup.id or 0],
            comments[entry.id or 0],
            promoted=False,
        )
    round_.published_at = utcnow()
    jury_service._set_status(session, actor, round_, RoundStatus.decided)
    audit.record(session, "round.published", actor=actor, target=("round", view.id), startups=len(entries))
    return jury_records.get_managed_round(session, actor, view.id)


def notify_outcome(
    session: Session, view: RoundView, decision: SelectionDecision, entry: JuryEntry, proposal: Proposal
) -> None:
    """A decision confirmed after publication (a promotion from the waiting list), told to the startup."""
    startup = session.get(Organisation, proposal.startup_id)
    assert startup is not None
    members = _members(session, {startup.id or 0})[startup.id or 0]
    comments = feedback(session, [entry.id or 0])[entry.id or 0]
    _send(session, view, decision, proposal, startup, members, comments, promoted=True)


# ---- what the public and the startup read --------------------------------------------------------------


def selected_startups(session: Session, challenge_id: int) -> list[Organisation]:
    """The startups selected in the challenge's published rounds, by name (public)."""
    found = session.exec(
        select(Organisation)
        .join(Proposal, col(Proposal.startup_id) == Organisation.id)
        .join(SelectionDecision, col(SelectionDecision.proposal_id) == Proposal.id)
        .join(JuryRound, col(JuryRound.id) == SelectionDecision.round_id)
        .where(
            JuryRound.challenge_id == challenge_id,
            col(JuryRound.published_at).is_not(None),
            SelectionDecision.decision == DecisionKind.selected,
            SelectionDecision.status == DecisionStatus.confirmed,
        )
        .distinct()
    ).all()
    return sorted(found, key=lambda o: (o.name.casefold(), o.id or 0))


@dataclass(frozen=True)
class Outcome:
    round: JuryRound
    decision: SelectionDecision
    comments: list[Comment]

    @property
    def label(self) -> str:
        return DECISION_LABELS[DecisionKind(self.decision.decision)]


def outcomes(session: Session, proposal_id: int) -> list[Outcome]:
    """The proposal's outcome in each published round, in the rounds' order, with the jury's feedback: for its
    startup's page (the caller checks that the reader is of the startup)."""
    rows = session.exec(
        select(SelectionDecision, JuryRound)
        .join(JuryRound, col(JuryRound.id) == SelectionDecision.round_id)
        .where(
            SelectionDecision.proposal_id == proposal_id,
            SelectionDecision.status == DecisionStatus.confirmed,
            col(JuryRound.published_at).is_not(None),
        )
        .order_by(col(JuryRound.position))
    ).all()
    comments = feedback(session, [d.entry_id for d, _ in rows])
    return [Outcome(r, d, comments[d.entry_id]) for d, r in rows]


def told_statuses(session: Session, proposals: Sequence[Proposal]) -> dict[int, str]:
    """For the proposals whose status comes from a decision not yet sent to their startup, the status it was last
    told (proposals.records.STATUS_TOLD): the decision of the last one sent, else `eligible`."""
    found: dict[int, list[SelectionDecision]] = {}
    for d in session.exec(
        select(SelectionDecision)
        .where(
            col(SelectionDecision.proposal_id).in_([p.id for p in proposals] or [-1]),
            col(SelectionDecision.status).in_([DecisionStatus.confirmed, DecisionStatus.superseded]),
            col(SelectionDecision.confirmed_at).is_not(None),
        )
        .order_by(col(SelectionDecision.confirmed_at), col(SelectionDecision.id))
    ):
        found.setdefault(d.proposal_id, []).append(d)
    told = {}
    for proposal_id, decided in found.items():
        if decided[-1].notified_at is not None:
            continue  # the status comes from a decision sent
        sent = [d for d in decided if d.notified_at is not None]
        told[proposal_id] = sent[-1].decision if sent else ProposalStatus.eligible
    return told
