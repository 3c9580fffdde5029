"""Decisions on a round's entries: proposed by one member of the staff, confirmed by another, then in force.

Rules:
- Who: selection.permissions (can_propose, can_confirm, can_withdraw). A round the actor does not run is a 404
  (records.get_managed_round); so is an entry, or a decision on one, whose startup the actor is conflicted
  with: they learn nothing of it, not even that a decision exists.
- When: once the round is closed (its scores no longer move). After publication (the round decided) only a
  promotion: `selected` proposed for an entry whose decision in force is `waitlisted`.
- One proposal pending per entry, enforced by the table's partial unique index: of two members of the staff
  proposing at once, the second gets a 409, however close in time. A proposal is withdrawn by its proposer or
  any member of the staff.
- Confirmation is by a member of the staff other than the proposer (403 for the proposer). It records the
  ranking row as the confirmer sees it and the SHA-256 of the canonical JSON of the entry's counted reviews
  (evidence.py); a decision in force on the entry before it becomes superseded; the proposal's status becomes
  the decision (never before confirmation); `selected` opens the startup's project (projects.service, once per
  proposal). A promotion confirmed after publication emails the startup its new outcome at once.
- "Shortlist the top N": `shortlisted` proposed at once for the first N entries of the raw ranking (as the
  actor sees it) that have no decision, neither in force nor pending.
- Sponsor warnings: DataCity's habit is one selected startup per sponsor; each sponsor of the challenge with
  none, or several, among the challenge's decisions `selected` in force or proposed, is named on the page.
- Everything is audited.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.accounts.models import Organisation, User
from app.audit import service as audit
from app.db import utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.i18n import gettext
from app.jury import records as jury_records
from app.jury.models import JuryEntry, JuryRound
from app.jury.records import RoundView
from app.projects import records as project_records
from app.projects import service as projects
from app.projects.records import ProjectView
from app.proposals.models import Proposal
from app.security.actor import Actor
from app.selection import evidence
from app.selection import permissions as can
from app.selection.models import DecisionKind, DecisionStatus, SelectionDecision
from app.selection.ranking import RankedEntry, Ranking, ranking
from app.selection.schemas import DecisionIn, ShortlistIn

IN_FORCE_OR_PENDING = (DecisionStatus.proposed, DecisionStatus.confirmed)
ONE_PENDING = "A decision is already proposed for this proposal: confirm or withdraw it first."
PROMOTIONS_ONLY = "The outcomes are published: only a proposal on the waiting list can still be selected."
NOT_YET = "Decisions are taken once the round is closed: its scores still move."


# ---- the decisions page --------------------------------------------------------------------------------


@dataclass
class DecisionRow:
    """One entry on the decisions page, in rank order."""

    entry: JuryEntry
    proposal: Proposal
    startup: Organisation
    ranked: RankedEntry | None
    current: SelectionDecision | None  # in force
    pending: SelectionDecision | None  # proposed, to be confirmed
    project: ProjectView | None
    evidence: evidence.Check | None  # the decision in force's hash against the reviews on record now

    @property
    def title(self) -> str:
        return self.ranked.title if self.ranked is not None else self.proposal.title


@dataclass(frozen=True)
class SponsorWarning:
    sponsor: Organisation
    selected: int  # the challenge's proposals selected, in force or proposed


@dataclass
class Board:
    view: RoundView
    ranking: Ranking
    rows: list[DecisionRow]
    warnings: list[SponsorWarning]
    names: dict[int, str]  # user id → name, of the proposers and confirmers shown

    @property
    def may_decide(self) -> bool:
        return can.can_decide(self.view.round, staff=self.view.staff, now=self.view.now)

    @property
    def published(self) -> bool:
        return self.view.round.published_at is not None

    @property
    def lacking(self) -> int:
        return sum(1 for row in self.rows if row.current is None)

    @property
    def shortlistable(self) -> int:
        """Ranked entries with no decision in force or proposed: what "shortlist the top N" could still propose."""
        return sum(
            1
            for row in self.rows
            if row.ranked is not None and row.ranked.rank is not None and row.current is None and row.pending is None
        )

    def may_confirm(self, decision: SelectionDecision) -> bool:
        return can.can_confirm(
            staff=self.view.staff, actor_user_id=self.view.actor.user_id, proposed_by_id=decision.proposed_by_id
        )

    def may_propose(self, row: DecisionRow) -> bool:
        view = self.view
        promotion = _promotable(row.current)
        return can.can_propose(view.round, staff=view.staff, now=view.now, promotion=promotion)


def _promotable(current: SelectionDecision | None) -> bool:
    return current is not None and current.decision == DecisionKind.waitlisted


def _staff_view(session: Session, actor: Actor, round_id: int) -> RoundView:
    return jury_records.get_managed_round(session, actor, round_id)


def _entries(session: Session, view: RoundView) -> list[tuple[JuryEntry, Proposal, Organisation]]:
    """The round's live entries, those of startups the reader is conflicted with left out."""
    found = session.exec(
        select(JuryEntry, Proposal, Organisation)
        .join(Proposal, col(Proposal.id) == JuryEntry.proposal_id)
        .join(Organisation, col(Organisation.id) == Proposal.startup_id)
        .where(JuryEntry.round_id == view.id, col(JuryEntry.excluded_at).is_(None))
        .order_by(col(JuryEntry.id))
    ).all()
    conflicted = jury_records.reader_conflicts(session, view.actor, {o.id or 0 for _, _, o in found})
    return [(e, p, o) for e, p, o in found if (o.id or 0) not in conflicted]


def _standing(session: Session, round_id: int, entry_ids: Sequence[int]) -> dict[int, dict[str, SelectionDecision]]:
    """Per entry, its decision in force ("confirmed") and its pending one ("proposed")."""
    found: dict[int, dict[str, SelectionDecision]] = {}
    for d in session.exec(
        select(SelectionDecision).where(
            SelectionDecision.round_id == round_id,
            col(SelectionDecision.entry_id).in_(list(entry_ids) or [-1]),
            col(SelectionDecision.status).in_([s.value for s in IN_FORCE_OR_PENDING]),
        )
    ):
        found.setdefault(d.entry_id, {})[d.status] = d
    return found


def board(session: Session, actor: Actor, round_id: int) -> Board:
    """The decisions page of a round: its entries in rank order with their decisions (staff only)."""
    view = _staff_view(session, actor, round_id)
    ranked = ranking(session, view)
    entries = _entries(session, view)
    standing = _standing(session, view.id, [e.id or 0 for e, _, _ in entries])
    projects_of = project_records.projects_of_proposals(session, actor, [p.id or 0 for _, p, _ in entries])
    order = {row.entry_id: i for i, row in enumerate(ranked.rows)}
    by_entry = {row.entry_id: row for row in ranked.rows}
    in_force = [d[DecisionStatus.confirmed] for d in standing.values() if DecisionStatus.confirmed in d]
    checks = evidence.check_many(session, in_force, view.criteria)
    rows = []
    for entry, proposal, startup in sorted(entries, key=lambda e: (order.get(e[0].id or 0, len(order)), e[0].id)):
        decisions = standing.get(entry.id or 0, {})
        current = decisions.get(DecisionStatus.confirmed)
        rows.append(
            DecisionRow(
                entry,
                proposal,
                startup,
                by_entry.get(entry.id or 0),
                current,
                decisions.get(DecisionStatus.proposed),
                projects_of.get(proposal.id or 0),
                checks.get(current.id or 0) if current is not None else None,
            )
        )
    user_ids = {
        uid
        for row in rows
        for d in (row.current, row.pending)
        if d is not None
        for uid in (d.proposed_by_id, d.confirmed_by_id)
        if uid is not None
    }
    return Board(view, ranked, rows, sponsor_warnings(session, view), _names(session, user_ids))


def _names(session: Session, user_ids: set[int]) -> dict[int, str]:
    return dict(session.exec(select(User.id, User.name).where(col(User.id).in_(user_ids or {-1}))).all())  # type: ignore[arg-type]


def sponsor_warnings(session: Session, view: RoundView) -> list[SponsorWarning]:
    """The challenge's sponsors with no selected startup, or several (decisions in force or proposed, in any
    round of the challenge, those the reader is conflicted with left out)."""
    rows = session.exec(
        select(SelectionDecision.proposal_id, Proposal.startup_id)
        .join(JuryRound, col(JuryRound.id) == SelectionDecision.round_id)
        .join(Proposal, col(Proposal.id) == SelectionDecision.proposal_id)
        .where(
            JuryRound.challenge_id == view.round.challenge_id,
            SelectionDecision.decision == DecisionKind.selected,
            col(SelectionDecision.status).in_([s.value for s in IN_FORCE_OR_PENDING]),
        )
    ).all()
    conflicted = jury_records.reader_conflicts(session, view.actor, {s for _, s in rows})
    selected = len({p for p, s in rows if s not in conflicted})
    if selected == 1:
        return []
    sponsors = [view.challenge.lead_sponsor, *view.challenge.co_sponsors]
    return [SponsorWarning(s, selected) for s in sponsors]


# ---- one decision --------------------------------------------------------------------------------------


@dataclass
class DecisionView:
    decision: SelectionDecision
    round: RoundView
    entry: JuryEntry
    proposal: Proposal

    @property
    def id(self) -> int:
        return self.decision.id or 0


def _conflicted(session: Session, actor: Actor, proposal: Proposal) -> bool:
    return proposal.startup_id in jury_records.reader_conflicts(session, actor, {proposal.startup_id})


def get_decision(session: Session, actor: Actor, decision_id: int, *, for_update: bool = False) -> DecisionView:
    """A decision the actor may know of: the staff of its round, not conflicted with its startup; NotFound for
    everyone else. `for_update` locks its row (PostgreSQL) and reads it afresh, for a change."""
    query = select(SelectionDecision).where(SelectionDecision.id == decision_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    decision = session.exec(query).first()
    if decision is None:
        raise NotFound()
    view = _staff_view(session, actor, decision.round_id)
    entry = session.get(JuryEntry, decision.entry_id)
    proposal = session.get(Proposal, decision.proposal_id)
    if entry is None or proposal is None or _conflicted(session, actor, proposal):
        raise NotFound()
    return DecisionView(decision, view, entry, proposal)


def list_decisions(session: Session, actor: Actor, round_id: int) -> list[SelectionDecision]:
    """Every decision of the round, withdrawn and superseded included, oldest first (staff; those on entries the
    actor is conflicted with left out)."""
    view = _staff_view(session, actor, round_id)
    shown = {e.id for e, _, _ in _entries(session, view)}
    found = session.exec(
        select(SelectionDecision).where(SelectionDecision.round_id == view.id).order_by(col(SelectionDecision.id))
    ).all()
    return [d for d in found if d.entry_id in shown]


def _entry_of(session: Session, view: RoundView, proposal_id: int) -> tuple[JuryEntry, Proposal]:
    """The live entry of this proposal in the round; NotFound across a conflict of interest."""
    for entry, proposal, _ in _entries(session, view):
        if proposal.id == proposal_id:
            return entry, proposal
    asked = session.get(Proposal, proposal_id)
    if asked is not None and _conflicted(session, view.actor, asked):
        raise NotFound()
    raise Invalid({"proposal": "This proposal is not judged in this round."})


def _in_force(session: Session, entry_id: int) -> SelectionDecision | None:
    return session.exec(
        select(SelectionDecision).where(
            SelectionDecision.entry_id == entry_id, SelectionDecision.status == DecisionStatus.confirmed
        )
    ).first()


def _is_pending_clash(exc: IntegrityError) -> bool:
    text = str(exc.orig)
    return "uq_selection_decision_proposed_entry" in text or "selection_decision.entry_id" in text


def _check_may_propose(view: RoundView, decision: str, current: SelectionDecision | None) -> None:
    promotion = decision == DecisionKind.selected and _promotable(current)
    if can.can_propose(view.round, staff=view.staff, now=view.now, promotion=promotion):
        return
    if not can.can_decide(view.round, staff=view.staff, now=view.now):
        raise Conflict(NOT_YET)
    raise Conflict(PROMOTIONS_ONLY)


def _insert(session: Session, actor: Actor, view: RoundView, entry: JuryEntry, data: DecisionIn) -> SelectionDecision:
    current = _in_force(session, entry.id or 0)
    _check_may_propose(view, data.decision, current)
    if current is not None and current.decision == data.decision:
        raise Conflict("This decision is already in force for this proposal.")
    decision = SelectionDecision(
        round_id=view.id,
        entry_id=entry.id or 0,
        proposal_id=entry.proposal_id,
        decision=data.decision,
        rationale=data.rationale,
        proposed_by_id=actor.user_id,
        replaces_id=current.id if current is not None else None,
    )
    try:
        with session.begin_nested():
            session.add(decision)
            session.flush()
    except IntegrityError as exc:
        if not _is_pending_clash(exc):
            raise
        raise Conflict(ONE_PENDING) from None
    audit.record(
        session,
        "decision.proposed",
        actor=actor,
        target=("decision", decision.id),
        round=view.id,
        proposal=entry.proposal_id,
        decision=data.decision,
    )
    return decision


def propose(session: Session, actor: Actor, round_id: int, data: DecisionIn) -> SelectionDecision:
    view = _staff_view(session, actor, round_id)
    entry, _ = _entry_of(session, view, data.proposal)
    return _insert(session, actor, view, entry, data)


def shortlist_top(session: Session, actor: Actor, round_id: int, data: ShortlistIn) -> list[SelectionDecision]:
    """`shortlisted` proposed for the first `top` ranked entries without a decision (see the module's rules)."""
    view = _staff_view(session, actor, round_id)
    if not can.can_propose(view.round, staff=view.staff, now=view.now, promotion=False):
        raise Conflict(NOT_YET if not can.can_decide(view.round, staff=view.staff, now=view.now) else PROMOTIONS_ONLY)
    ranked = ranking(session, view)
    top = [row for row in ranked.rows if row.rank is not None][: data.top]
    standing = _standing(session, view.id, [row.entry_id for row in top])
    undecided = [row for row in top if row.entry_id not in standing]
    rationale = data.rationale or gettext("Among the first %(top)s of the ranking.", top=data.top)
    wanted = [row.entry_id for row in undecided] or [-1]
    entries = {e.id: e for e in session.exec(select(JuryEntry).where(col(JuryEntry.id).in_(wanted)))}
    return [
        _insert(
            session,
            actor,
            view,
            entries[row.entry_id],
            DecisionIn(proposal=row.proposal_id, decision=DecisionKind.shortlisted, rationale=rationale),
        )
        for row in undecided
    ]


def withdraw(session: Session, actor: Actor, decision_id: int) -> SelectionDecision:
    shown = get_decision(session, actor, decision_id, for_update=True)
    decision = shown.decision
    if not can.can_withdraw(
        staff=shown.round.staff, actor_user_id=actor.user_id, proposed_by_id=decision.proposed_by_id
    ):
        raise NotFound()
    if decision.status != DecisionStatus.proposed:
        raise Conflict("Only a decision not yet confirmed can be withdrawn.")
    decision.status = DecisionStatus.withdrawn
    decision.ended_at = utcnow()
    session.add(decision)
    session.flush()
    audit.record(session, "decision.withdrawn", actor=actor, target=("decision", decision.id))
    return decision


def ranking_row(row: RankedEntry) -> dict[str, Any]:
    """A ranking row as a confirmation records it (JSON)."""
    s = row.stats
    return {
        "entry": row.entry_id,
        "proposal": row.proposal_id,
        "rank": s.rank,
        "score": s.score,
        "median": s.median,
        "stdev": s.stdev,
        "min": s.min,
        "max": s.max,
        "reviews": s.reviews,
        "criteria": {str(k): v for k, v in sorted(s.criteria.items())},
        "disagreement": s.disagreement,
        "calibrated_score": row.calibrated_score,
        "calibrated_rank": row.calibrated_rank,
    }


def confirm(session: Session, actor: Actor, decision_id: int) -> SelectionDecision:
    """Put a proposed decision in force (see the module's rules)."""
    shown = get_decision(session, actor, decision_id, for_update=True)
    view, decision = shown.round, shown.decision
    if decision.status != DecisionStatus.proposed:
        raise Conflict("This decision is no longer proposed: it was confirmed or withdrawn in the meantime.")
    if not can.can_confirm(staff=view.staff, actor_user_id=actor.user_id, proposed_by_id=decision.proposed_by_id):
        raise Forbidden("You proposed this decision: another member of the staff confirms it.")
    previous = _in_force(session, decision.entry_id)
    _check_may_propose(view, decision.decision, previous)
    now = utcnow()
    found = evidence.collect(session, decision.entry_id, view.criteria)
    if previous is not None:
        previous.status = DecisionStatus.superseded
        previous.ended_at = now
        session.add(previous)
        session.flush()
    decision.status = DecisionStatus.confirmed
    decision.confirmed_by_id = actor.user_id
    decision.confirmed_at = now
    decision.replaces_id = previous.id if previous is not None else decision.replaces_id
    decision.ranking_row = ranking_row(ranking(session, view).row(decision.entry_id))
    decision.reviews_sha256 = found.sha256
    decision.reviews_count = found.count
    proposal = shown.proposal
    proposal.status = decision.decision
    session.add_all([decision, proposal])
    session.flush()
    if decision.decision == DecisionKind.selected:
        projects.open_project(session, actor, proposal, decision_id=decision.id)
    elif previous is not None and previous.decision == DecisionKind.selected:
        projects.selection_replaced(session, actor, proposal, decision_id=decision.id)
    audit.record(
        session,
        "decision.confirmed",
        actor=actor,
        target=("decision", decision.id),
        proposal=proposal.id,
        decision=decision.decision,
        reviews_sha256=decision.reviews_sha256,
        reviews_count=decision.reviews_count,
        supersedes=previous.id if previous is not None else None,
    )
    if view.round.published_at is not None:
        from app.selection import publication  # the publication builds on decisions: imported where it is used

        publication.notify_outcome(session, view, decision, shown.entry, proposal)
    return decision


def evidence_of(session: Session, shown: DecisionView) -> evidence.Check | None:
    return evidence.check(session, shown.decision, shown.round.criteria)
