"""Who reviews what: the automatic balanced assignment of a round's entries to its jurors, manual changes,
and the round's progress.

Rules:
- Automatic: every entry that is not left out gets the round's number of distinct jurors none of whom is
  conflicted with its startup; jurors' loads differ by at most one, within the round's maximum load; matching
  themes and jurors' bids are preferred. It is solved as a min-cost flow (assignment.py, ortools), never a
  greedy loop. Assignments whose review is started, and those the staff added by hand, are kept; the others
  are recomputed. When it cannot fill everything it says which entries and why — to the staff member who
  ran it, counting nothing of an entry they are conflicted with.
- A conflict found after an assignment was made (declared, or a juror who joined the startup) removes it
  while the round runs (draft or open), a started review too; in a closed or decided round it stays on record.
- Manual: the staff add or remove an assignment; a conflicted juror is refused (409); an assignment whose
  review was written (a draft too) cannot be removed (its review is on record).
"""

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.audit import service as audit
from app.errors import Conflict, Invalid, NotFound
from app.jury import assignment as solver
from app.jury import conflicts
from app.jury import permissions as can
from app.jury.jurors import conflicts_of, seated_jurors
from app.jury.models import (
    Juror,
    JuryAssignment,
    JuryBid,
    JuryEntry,
    JuryReview,
    JuryRound,
    ReviewStatus,
    RoundStatus,
)
from app.jury.records import AssignmentView, RoundView, assignment_views, reader_conflicts
from app.jury.schemas import AssignmentIn
from app.proposals.models import Proposal
from app.security.actor import Actor


@dataclass(frozen=True)
class Unfilled:
    entry: JuryEntry
    proposal_title: str
    missing: int
    reason: str


@dataclass(frozen=True)
class AssignmentReport:
    assigned: int  # assignments in the round after the run
    added: int
    removed: int
    jurors: int
    min_load: int
    max_load: int
    unfilled: list[Unfilled]


def _entries(session: Session, round_id: int) -> list[JuryEntry]:
    return list(
        session.exec(
            select(JuryEntry)
            .where(JuryEntry.round_id == round_id, col(JuryEntry.excluded_at).is_(None))
            .order_by(col(JuryEntry.id))
        )
    )


def _assignments(session: Session, round_id: int) -> list[JuryAssignment]:
    return list(session.exec(select(JuryAssignment).where(JuryAssignment.round_id == round_id)))


def with_reviews(session: Session, round_id: int, *, juror_ids: Collection[int] = ()) -> list[JuryAssignment]:
    """The round's assignments whose review has been started (of these jurors, if named)."""
    query = (
        select(JuryAssignment)
        .join(JuryReview, col(JuryReview.assignment_id) == JuryAssignment.id)
        .where(JuryAssignment.round_id == round_id)
    )
    if juror_ids:
        query = query.where(col(JuryAssignment.juror_id).in_(juror_ids))
    return list(session.exec(query))


def drop_pending(
    session: Session, view: RoundView, *, entry_ids: Collection[int] = (), juror_ids: Collection[int] = ()
) -> int:
    """Remove the assignments of these entries or jurors that have no review yet."""
    started = {a.id for a in with_reviews(session, view.id)}
    dropped = 0
    for a in _assignments(session, view.id):
        if a.id not in started and (a.entry_id in entry_ids or a.juror_id in juror_ids):
            session.delete(a)
            dropped += 1
    session.flush()
    return dropped


def drop_conflicted(session: Session, user_id: int, startup_id: int, now: datetime) -> set[int]:
    """Remove a person's assignments to a startup's entries in every round still running (draft or open by
    the server clock), reviews started included: a review across a conflict must not count. In a closed or
    decided round the assignment and its review stay on record (the ranking already leaves an entry out for a
    reader conflicted with it). Returns the rounds changed, to refill."""
    rows = session.exec(
        select(JuryAssignment, JuryRound)
        .join(Juror, col(Juror.id) == JuryAssignment.juror_id)
        .join(JuryRound, col(JuryRound.id) == JuryAssignment.round_id)
        .join(JuryEntry, col(JuryEntry.id) == JuryAssignment.entry_id)
        .join(Proposal, col(Proposal.id) == JuryEntry.proposal_id)
        .where(Juror.user_id == user_id, Proposal.startup_id == startup_id)
    ).all()
    changed: set[int] = set()
    for a, round_ in rows:
        if can.effective_status(round_, now) in (RoundStatus.draft, RoundStatus.open):
            session.delete(a)
            changed.add(round_.id or 0)
    session.flush()
    return changed


def _hidden_entries(session: Session, actor: Actor, round_id: int) -> set[int]:
    """The round's entries (left out ones included) whose startup the actor is conflicted with."""
    rows = session.exec(
        select(JuryEntry.id, Proposal.startup_id)
        .join(Proposal, col(Proposal.id) == JuryEntry.proposal_id)
        .where(JuryEntry.round_id == round_id)
    ).all()
    hidden = reader_conflicts(session, actor, {startup_id for _, startup_id in rows})
    return {entry_id or 0 for entry_id, startup_id in rows if startup_id in hidden}


def _solve(
    session: Session, view: RoundView, *, keep_all: bool, hidden: Collection[int] = ()
) -> tuple[AssignmentReport, list[JuryAssignment]]:
    """Assign the round; the report leaves out the `hidden` entries (the reader's conflicts): their
    assignments are neither counted nor in the loads, and their shortfalls are not named."""
    entries = _entries(session, view.id)
    jurors = seated_jurors(session, view.id)
    facts = conflicts_of(session, view, *jurors) if jurors else conflicts.ConflictFacts()
    proposals = {
        p.id: p
        for p in session.exec(select(Proposal).where(col(Proposal.id).in_([e.proposal_id for e in entries] or [-1])))
    }
    startup_of = {e.id: proposals[e.proposal_id].startup_id for e in entries}
    user_of = {j.id: j.user_id for j in jurors}
    conflicted = {
        (j.id or 0, e.id or 0) for j in jurors for e in entries if facts.is_conflicted(j.user_id, startup_of[e.id])
    }
    existing = _assignments(session, view.id)
    started = {a.id for a in with_reviews(session, view.id)}
    live_entries = {e.id for e in entries}
    removed = 0
    kept: list[JuryAssignment] = []
    for a in existing:
        valid = a.juror_id in user_of and a.entry_id in live_entries
        if (a.juror_id, a.entry_id) in conflicted or (not valid and a.id not in started):
            session.delete(a)  # across a conflict even a started review goes: it must not count
            removed += a.entry_id not in hidden
        elif valid and (keep_all or a.manual or a.id in started):
            kept.append(a)
        elif not valid:
            continue  # a review written for an entry since left out stays on record, outside the assignment
        else:
            session.delete(a)
            removed += a.entry_id not in hidden
    session.flush()
    themes = {e.id: set(view.challenge.challenge.themes or []) for e in entries}
    bids = {
        (b.juror_id, b.entry_id): solver.Bid(b.bid)
        for b in session.exec(select(JuryBid).where(col(JuryBid.juror_id).in_(list(user_of) or [-1])))
    }
    solution = solver.assign(
        [solver.Entry(e.id or 0, frozenset(themes[e.id])) for e in entries],
        [solver.Juror(j.id or 0, frozenset(j.themes)) for j in jurors],
        reviews_per_entry=view.round.reviews_per_proposal,
        max_load=view.round.max_load,
        conflicts=conflicted,
        kept={(a.juror_id, a.entry_id) for a in kept},
        bids=bids,
    )
    have = {(a.juror_id, a.entry_id) for a in kept}
    added = [
        JuryAssignment(round_id=view.id, juror_id=juror_id, entry_id=entry_id)
        for juror_id, entry_id in sorted(solution.pairs)
        if (juror_id, entry_id) not in have
    ]
    session.add_all(added)
    session.flush()
    shown = [a for a in [*kept, *added] if a.entry_id not in hidden]
    loads = Counter(a.juror_id for a in shown)
    by_id = {e.id: e for e in entries}
    unfilled = [
        Unfilled(by_id[u.entry_id], proposals[by_id[u.entry_id].proposal_id].title, u.missing, u.reason)
        for u in solution.unfilled
        if u.entry_id not in hidden
    ]
    report = AssignmentReport(
        assigned=len(shown),
        added=sum(1 for a in added if a.entry_id not in hidden),
        removed=removed,
        jurors=len(jurors),
        min_load=min((loads[j.id or 0] for j in jurors), default=0),
        max_load=max((loads[j.id or 0] for j in jurors), default=0),
        unfilled=unfilled,
    )
    return report, [*kept, *added]


def assign(session: Session, actor: Actor, view: RoundView) -> AssignmentReport:
    """Run the automatic assignment: started reviews and manual assignments kept, the rest recomputed. The
    report is the actor's: nothing of an entry they are conflicted with (its assignments, its shortfall)."""
    if not view.staff:
        raise NotFound()
    if view.status in (RoundStatus.closed, RoundStatus.decided):
        raise Conflict("A closed round cannot be assigned again.")
    report, _ = _solve(session, view, keep_all=False, hidden=_hidden_entries(session, actor, view.id))
    audit.record(
        session,
        "round.assigned",
        actor=actor,
        target=("round", view.id),
        assigned=report.assigned,
        added=report.added,
        unfilled=len(report.unfilled),
    )
    return report


def refill(session: Session, view: RoundView) -> AssignmentReport:
    """Fill what is missing (after a conflict or a removal), keeping every assignment that is still valid."""
    report, _ = _solve(session, view, keep_all=True)
    return report


# ---- manual changes --------------------------------------------------------------------------------------


def add_assignment(session: Session, actor: Actor, view: RoundView, data: AssignmentIn) -> JuryAssignment:
    if not view.staff:
        raise NotFound()
    if view.status in (RoundStatus.closed, RoundStatus.decided):
        raise Conflict("A closed round cannot change.")
    juror = session.get(Juror, data.juror)
    if juror is None or juror.round_id != view.id or juror.user_id is None or juror.accepted_at is None:
        raise Invalid({"juror": "This juror does not sit on the round."})
    entry = session.exec(
        select(JuryEntry).where(JuryEntry.round_id == view.id, JuryEntry.proposal_id == data.proposal)
    ).first()
    if entry is None or entry.excluded_at is not None:
        raise Invalid({"proposal": "This proposal is not an entry of the round."})
    proposal = session.get(Proposal, entry.proposal_id)
    assert proposal is not None
    if reader_conflicts(session, actor, {proposal.startup_id}):
        raise NotFound()
    facts = conflicts_of(session, view, juror)
    if facts.is_conflicted(juror.user_id, proposal.startup_id):
        raise Conflict("This juror has a conflict of interest with the proposal's startup.")
    existing = session.exec(
        select(JuryAssignment).where(JuryAssignment.juror_id == juror.id, JuryAssignment.entry_id == entry.id)
    ).first()
    if existing is not None:
        raise Conflict("This juror is already assigned this proposal.")
    assignment = JuryAssignment(round_id=view.id, juror_id=juror.id or 0, entry_id=entry.id or 0, manual=True)
    session.add(assignment)
    session.flush()
    audit.record(session, "assignment.added", actor=actor, target=("assignment", assignment.id), round=view.id)
    return assignment


def remove_assignment(session: Session, actor: Actor, view: AssignmentView) -> None:
    if not view.round.staff:
        raise NotFound()
    if view.round.status in (RoundStatus.closed, RoundStatus.decided):
        raise Conflict("A closed round cannot change.")
    if view.review is not None:  # a draft too: the juror's work is not thrown away by a removal
        raise Conflict("A review of this assignment is written: it stays on record.")
    session.delete(view.assignment)
    session.flush()
    audit.record(session, "assignment.removed", actor=actor, target=("assignment", view.id), round=view.round.id)


# ---- reading -------------------------------------------------------------------------------------------


def list_assignments(session: Session, actor: Actor, view: RoundView) -> list[AssignmentView]:
    """The staff: every assignment of the round (but those of entries they are conflicted with); a juror:
    their own, never across a conflict."""
    if view.staff:
        rows = _assignments(session, view.id)
    elif view.is_juror and view.seat is not None:
        rows = list(session.exec(select(JuryAssignment).where(JuryAssignment.juror_id == view.seat.id)))
    else:
        raise NotFound()
    startups = set(
        session.exec(
            select(Proposal.startup_id)
            .join(JuryEntry, col(JuryEntry.proposal_id) == Proposal.id)
            .where(col(JuryEntry.id).in_({a.entry_id for a in rows} or {-1}))
        ).all()
    )
    shown = assignment_views(
        session, view, sorted(rows, key=lambda a: a.id or 0), conflicted=reader_conflicts(session, actor, startups)
    )
    return shown


def left_to_do(session: Session, view: RoundView) -> list[tuple[Juror, int]]:
    """Each seated juror and how many of their assignments have no submitted review or abstention — not
    counting one across a conflict found since it was made (the juror may not know it exists)."""
    jurors = seated_jurors(session, view.id)
    facts = conflicts_of(session, view, *jurors) if jurors else conflicts.ConflictFacts()
    user_of = {j.id: j.user_id for j in jurors}
    rows = session.exec(
        select(JuryAssignment, JuryReview.status, Proposal.startup_id)
        .join(JuryReview, col(JuryReview.assignment_id) == JuryAssignment.id, isouter=True)
        .join(JuryEntry, col(JuryEntry.id) == JuryAssignment.entry_id)
        .join(Proposal, col(Proposal.id) == JuryEntry.proposal_id)
        .where(JuryAssignment.round_id == view.id)
    ).all()
    left: Counter[int] = Counter()
    for a, status, startup_id in rows:
        if status in (None, ReviewStatus.draft) and not facts.is_conflicted(user_of.get(a.juror_id), startup_id):
            left[a.juror_id] += 1
    return [(j, left[j.id or 0]) for j in jurors]


@dataclass(frozen=True)
class JurorProgress:
    juror: Juror
    assigned: int
    submitted: int
    abstained: int
    drafts: int


@dataclass(frozen=True)
class EntryProgress:
    entry: JuryEntry
    proposal: Proposal
    assigned: int
    submitted: int
    abstained: int


def progress(session: Session, actor: Actor, view: RoundView) -> tuple[list[JurorProgress], list[EntryProgress]]:
    """The round's progress per juror and per entry, for the staff (entries they are conflicted with left out)."""
    if not view.staff:
        raise NotFound()
    jurors = list(session.exec(select(Juror).where(Juror.round_id == view.id).order_by(col(Juror.name))))
    entries = list(session.exec(select(JuryEntry).where(JuryEntry.round_id == view.id).order_by(col(JuryEntry.id))))
    proposals = {
        p.id: p
        for p in session.exec(select(Proposal).where(col(Proposal.id).in_([e.proposal_id for e in entries] or [-1])))
    }
    hidden = reader_conflicts(session, actor, {p.startup_id for p in proposals.values()})
    rows = session.exec(
        select(JuryAssignment, JuryReview.status)
        .join(JuryReview, col(JuryReview.assignment_id) == JuryAssignment.id, isouter=True)
        .where(JuryAssignment.round_id == view.id)
    ).all()
    visible_entries = {e.id for e in entries if proposals[e.proposal_id].startup_id not in hidden}
    per_juror: dict[int, Counter[str]] = {}
    per_entry: dict[int, Counter[str]] = {}
    for a, status in rows:
        if a.entry_id not in visible_entries:
            continue
        key = status or "pending"
        per_juror.setdefault(a.juror_id, Counter())[key] += 1
        per_juror[a.juror_id]["all"] += 1
        per_entry.setdefault(a.entry_id, Counter())[key] += 1
        per_entry[a.entry_id]["all"] += 1
    juror_rows = [
        JurorProgress(
            j,
            per_juror.get(j.id or 0, Counter())["all"],
            per_juror.get(j.id or 0, Counter())[ReviewStatus.submitted],
            per_juror.get(j.id or 0, Counter())[ReviewStatus.abstained],
            per_juror.get(j.id or 0, Counter())[ReviewStatus.draft],
        )
        for j in jurors
    ]
    entry_rows = [
        EntryProgress(
            e,
            proposals[e.proposal_id],
            per_entry.get(e.id or 0, Counter())["all"],
            per_entry.get(e.id or 0, Counter())[ReviewStatus.submitted],
            per_entry.get(e.id or 0, Counter())[ReviewStatus.abstained],
        )
        for e in entries
        if e.id in visible_entries
    ]
    return juror_rows, entry_rows
