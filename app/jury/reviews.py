"""Writing reviews: drafts saved as the juror types, submission, abstention, edits until the round closes with
their history, and who may read the others' reviews.

Rules:
- Only the assignment's juror writes its review, while the round accepts reviews (open, between its opening
  and closing times by the server clock); after it closes, reviews are read-only (409).
- A draft keeps whatever was typed. Submitting needs every criterion scored within its scale, in its steps
  (whole or half points), and a comment wherever a criterion requires one; otherwise the review stays a draft
  with what was typed, and the answer names each field at fault (422). A review once submitted (or an
  abstention) changes only by a new submission or abstention: a draft save is refused (409), and a new
  submission its checks refuse leaves what is on record unchanged (422). Where an abstention shows the
  others' reviews (`after_own`), scores cannot follow it (409): they would be given knowing the others'.
- An abstention needs a reason; it counts as done, not as a score.
- Each submission and abstention is kept as a version: a review edited after submission keeps its history.
- Others' reviews: as permissions.can_see_others says; never those of an entry the reader is conflicted with;
  in a blind round the jurors are not named to other jurors, and the others' texts reach a juror without the
  names of who wrote the proposal (visible_reviews hides them, for every face); a startup never sees juror
  names or notes.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.db import utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from app.jury import permissions as can
from app.jury.models import (
    Juror,
    JuryAssignment,
    JuryCriterion,
    JuryEntry,
    JuryReview,
    JuryReviewVersion,
    ReviewStatus,
)
from app.jury.records import AssignmentView, RoundView, hide_names, names_hidden_from, reader_conflicts
from app.jury.schemas import ReviewIn
from app.proposals import records as proposal_records
from app.proposals.models import Proposal
from app.security.actor import Actor


@dataclass
class SavedReview:
    review: JuryReview
    problems: Invalid | None = None  # submission refused: the review was kept as a draft with what was typed


def score_problems(criteria: list[JuryCriterion], data: ReviewIn) -> dict[str, str]:
    """What keeps these scores from being submitted, per field (`scores.<criterion id>`)."""
    problems: dict[str, str] = {}
    for c in criteria:
        key = str(c.id)
        value = data.scores.get(key)
        field = f"scores.{key}"
        if value is None:
            problems[field] = "Score this criterion."
        elif not c.min_score <= value <= c.max_score:
            problems[field] = "Give a score between %(min)s and %(max)s."
        elif abs(round((value - c.min_score) / c.step) * c.step - (value - c.min_score)) > 1e-9:
            problems[field] = "Use whole points." if c.step == 1 else "Use whole or half points."
        if c.comment_required and not (data.comments.get(key) or "").strip():
            problems[f"comments.{key}"] = "This criterion needs a comment."
    return problems


def _variables(criteria: list[JuryCriterion], problems: dict[str, str]) -> dict[str, dict[str, Any]]:
    by_id = {str(c.id): c for c in criteria}
    return {
        name: {"min": _number(by_id[name.split(".")[1]].min_score), "max": _number(by_id[name.split(".")[1]].max_score)}
        for name in problems
    }


def _number(value: float) -> str:
    return f"{value:g}"


def save_review(
    session: Session, actor: Actor, view: AssignmentView, data: ReviewIn, *, expected_revision: int | None = None
) -> SavedReview:
    """Save the juror's review: a draft, a submission (checked; kept as a draft if refused) or an abstention."""
    round_ = view.round
    if not view.is_own:
        raise NotFound() if not round_.staff else Forbidden("Only the juror assigned this proposal writes its review.")
    if not can.accepts_reviews(round_.round, round_.now):
        if round_.now < round_.round.opens_at and round_.status == "open":
            raise Conflict(
                "The round opens for reviews on %(opens)s.",
                opens=round_.local(round_.round.opens_at).strftime("%Y-%m-%d %H:%M"),
            )
        raise Conflict("The round is closed: reviews can no longer change.")
    # one save of a review at a time: on PostgreSQL two first saves would both insert a review, and two
    # submissions would number their versions alike. The assignment's row is locked (SQLite's BEGIN IMMEDIATE
    # already queues writers) and the review read again under the lock.
    session.exec(select(JuryAssignment.id).where(JuryAssignment.id == view.id).with_for_update()).first()
    review = session.exec(
        select(JuryReview).where(JuryReview.assignment_id == view.id).execution_options(populate_existing=True)
    ).first()
    if review is not None and expected_revision is not None and expected_revision != review.revision:
        raise PreconditionFailed("This review was saved elsewhere since you opened it (another tab?). Reload it.")
    known = {str(c.id) for c in round_.criteria}
    unknown = sorted(set(data.scores) - known) + sorted(set(data.comments) - known)
    if unknown:
        raise Invalid({f"scores.{unknown[0]}": "This round has no such criterion."})
    if data.abstain and not data.reason.strip():
        raise Invalid({"reason": "Say why you abstain."})
    now = utcnow()
    if review is None:
        review = JuryReview(assignment_id=view.id)
    was = review.status if review.id else None
    if was in (ReviewStatus.submitted, ReviewStatus.abstained) and not (data.submit or data.abstain):
        raise Conflict("This review is submitted: submit it again, or abstain, to change it.")
    if data.submit and not data.abstain and not can.can_score_after(round_.round, was):
        raise Conflict(
            "You abstained on this proposal, which showed you the other jurors' reviews: in this round your "
            "abstention stays as it is."
        )
    found = score_problems(round_.criteria, data) if data.submit and not data.abstain else {}
    if found and was in (ReviewStatus.submitted, ReviewStatus.abstained):
        # what is on record stays as it was: a submitted review never holds scores its checks refused
        return SavedReview(
            review,
            Invalid(
                found,
                "Your submitted review is unchanged: correct the fields named to submit it again.",
                field_variables=_variables(round_.criteria, found),
            ),
        )
    review.scores = {k: v for k, v in data.scores.items() if v is not None}
    review.criterion_comments = {k: v for k, v in data.comments.items() if v.strip()}
    review.comment = data.comment
    review.note = data.note
    review.revision = (review.revision or 0) + 1 if review.id else 1
    review.updated_at = now
    problems: Invalid | None = None
    if data.abstain:
        review.status = ReviewStatus.abstained
        review.abstain_reason = data.reason.strip()
        review.submitted_at = now
    elif data.submit:
        if found:
            problems = Invalid(
                found,
                "The review was saved as a draft: correct the fields named to submit it.",
                field_variables=_variables(round_.criteria, found),
            )
            review.status = ReviewStatus.draft
        else:
            review.status = ReviewStatus.submitted
            review.abstain_reason = ""
            review.submitted_at = now
    elif was is None or was == ReviewStatus.draft:
        review.status = ReviewStatus.draft
    session.add(review)
    session.flush()
    if (data.abstain or data.submit) and problems is None:
        _keep_version(session, actor, review)
        audit.record(session, f"review.{review.status}", actor=actor, target=("review", review.id), round=round_.id)
    return SavedReview(review, problems)


def _keep_version(session: Session, actor: Actor, review: JuryReview) -> None:
    number = len(session.exec(select(JuryReviewVersion.id).where(JuryReviewVersion.review_id == review.id)).all()) + 1
    session.add(
        JuryReviewVersion(
            review_id=review.id or 0,
            number=number,
            status=review.status,
            scores=dict(review.scores),
            criterion_comments=dict(review.criterion_comments),
            comment=review.comment,
            note=review.note,
            abstain_reason=review.abstain_reason,
            saved_by_id=actor.user_id,
        )
    )
    session.flush()


def history(session: Session, view: AssignmentView) -> list[JuryReviewVersion]:
    """The review's submitted versions, oldest first: its juror and the staff."""
    if view.review is None:
        return []
    return list(
        session.exec(
            select(JuryReviewVersion)
            .where(JuryReviewVersion.review_id == view.review.id)
            .order_by(col(JuryReviewVersion.number))
        )
    )


@dataclass(frozen=True)
class ShownReview:
    """A submitted review as a reader may see it: the juror unnamed (None) where the reader may not know them,
    and its texts as the reader may read them (a blind round's juror: without who wrote the proposal). Faces
    show these texts, never the review's own."""

    review: JuryReview
    entry: JuryEntry
    proposal_id: int
    juror_id: int | None
    juror_name: str | None
    comment: str
    comments: dict[str, str]  # per criterion id
    reason: str  # why they abstained ("" for a submitted review)
    note: str | None  # the private note: the jury and the staff only


def weighted_score(review: JuryReview, criteria: list[JuryCriterion]) -> float | None:
    """The review's weighted mean on the criteria's scale; None for an abstention or an incomplete review."""
    if review.status != ReviewStatus.submitted:
        return None
    return weighted_mean(review.scores, criteria)


def weighted_mean(scores: Mapping[str, Any], criteria: list[JuryCriterion]) -> float | None:
    """Scores per criterion id (as stored: string keys) → their weighted mean; None unless every criterion is
    scored."""
    total = sum(c.weight for c in criteria)
    if not total or any(str(c.id) not in scores for c in criteria):
        return None
    return sum(float(scores[str(c.id)]) * c.weight for c in criteria) / total


def weighted_scale(criteria: list[JuryCriterion]) -> tuple[float, float]:
    """The range of a weighted mean: the weighted means of the criteria's lowest and highest scores."""
    total = sum(c.weight for c in criteria)
    if not total:
        return (0.0, 0.0)
    return (
        sum(c.min_score * c.weight for c in criteria) / total,
        sum(c.max_score * c.weight for c in criteria) / total,
    )


def own_statuses(session: Session, view: RoundView) -> dict[int, str]:
    """The reader's own review status per entry of the round (their seat's)."""
    if view.seat is None:
        return {}
    return {
        entry_id: status or "pending"
        for entry_id, status in session.exec(
            select(JuryAssignment.entry_id, JuryReview.status)
            .join(JuryReview, col(JuryReview.assignment_id) == JuryAssignment.id, isouter=True)
            .where(JuryAssignment.juror_id == view.seat.id)
        )
    }


def visible_reviews(
    session: Session, actor: Actor, view: RoundView, *, entry_id: int | None = None
) -> list[ShownReview]:
    """The round's submitted reviews and abstentions the reader may see: the staff all (but across their own
    conflicts); a juror those of entries they were assigned, once the round allows, never across a conflict."""
    if not (view.staff or view.is_juror):
        raise NotFound()
    query = (
        sa_select(JuryReview, JuryAssignment, JuryEntry, col(Proposal.startup_id), Juror)
        .join(JuryAssignment, col(JuryAssignment.id) == JuryReview.assignment_id)
        .join(JuryEntry, col(JuryEntry.id) == JuryAssignment.entry_id)
        .join(Proposal, col(Proposal.id) == JuryEntry.proposal_id)
        .join(Juror, col(Juror.id) == JuryAssignment.juror_id)
        .where(col(JuryAssignment.round_id) == view.id, col(JuryReview.status) != ReviewStatus.draft)
    )
    if entry_id is not None:
        query = query.where(col(JuryEntry.id) == entry_id)
    rows = session.execute(query.order_by(col(JuryEntry.id), col(JuryReview.id))).all()
    conflicted = reader_conflicts(session, actor, {startup for _, _, _, startup, _ in rows})
    mine = own_statuses(session, view) if not view.staff else {}
    hidden = _names_hidden(session, view, [entry.proposal_id for _, _, entry, _, _ in rows])
    shown = []
    for review, _assignment, entry, startup_id, juror in rows:
        if startup_id in conflicted:
            continue
        if not view.staff:
            if entry.id not in mine:
                continue  # a juror reads the reviews of the entries they were assigned only
            own = view.seat is not None and juror.id == view.seat.id
            if not own and not can.can_see_others(
                view.round, staff=False, own_status=mine[entry.id or 0], now=view.now
            ):
                continue
        own = view.seat is not None and juror.id == view.seat.id
        named = view.staff or not view.round.blind or own
        names = [] if own else hidden.get(entry.proposal_id, [])
        shown.append(
            ShownReview(
                review,
                entry,
                entry.proposal_id,
                juror.id if named else None,
                juror.name if named else None,
                comment=hide_names(review.comment, names),
                comments={k: hide_names(v, names) for k, v in review.criterion_comments.items()},
                reason=hide_names(review.abstain_reason, names) if review.status == ReviewStatus.abstained else "",
                note=hide_names(review.note, names),
            )
        )
    return shown


def _names_hidden(session: Session, view: RoundView, proposal_ids: list[int]) -> dict[int, list[str]]:
    """The names a blind round hides from this reader, per proposal of these (none loaded otherwise)."""
    if not view.blind_for_reader or not proposal_ids:
        return {}
    proposals = session.exec(select(Proposal).where(col(Proposal.id).in_(set(proposal_ids)))).all()
    shown = proposal_records.views_of(
        session, view.actor, proposals, {view.challenge.challenge.id or 0: view.challenge}, view.now
    )
    return names_hidden_from(session, view, shown)
