"""Tables of the jury: rounds and their criteria, entries, jurors and their invitations, declared conflicts,
assignments, reviews with their history, and audition pitch slots."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow
from app.i18n import N_


class RoundKind(StrEnum):
    written = "written"
    audition = "audition"
    final = "final"


class RoundStatus(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"
    decided = "decided"


class OthersVisible(StrEnum):
    """When a juror may read the other jurors' reviews and the aggregates."""

    after_own = "after_own"
    after_close = "after_close"
    never = "never"


class ReviewStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    abstained = "abstained"


class AssignmentStatus(StrEnum):
    """An assignment's state, as its review stands (pending: nothing written yet)."""

    pending = "pending"
    draft = "draft"
    submitted = "submitted"
    abstained = "abstained"


class ConflictSource(StrEnum):
    declared = "declared"
    automatic = "automatic"


class Bid(StrEnum):
    eager = "eager"
    willing = "willing"
    unwilling = "unwilling"


ROUND_KIND_LABELS = {
    RoundKind.written: N_("Written pre-selection"),
    RoundKind.audition: N_("Auditions"),
    RoundKind.final: N_("Final decision"),
}
ROUND_STATUS_LABELS = {
    RoundStatus.draft: N_("Draft"),
    RoundStatus.open: N_("Open"),
    RoundStatus.closed: N_("Closed"),
    RoundStatus.decided: N_("Decided"),
}
OTHERS_VISIBLE_LABELS = {
    OthersVisible.after_own: N_("After the juror's own review"),
    OthersVisible.after_close: N_("After the round closes"),
    OthersVisible.never: N_("Never"),
}
ASSIGNMENT_STATUS_LABELS = {
    AssignmentStatus.pending: N_("To do"),
    AssignmentStatus.draft: N_("Draft"),
    AssignmentStatus.submitted: N_("Submitted"),
    AssignmentStatus.abstained: N_("Abstained"),
}
BID_LABELS = {Bid.eager: N_("Eager"), Bid.willing: N_("Willing"), Bid.unwilling: N_("Unwilling")}
CONFLICT_SOURCE_LABELS = {ConflictSource.declared: N_("declared"), ConflictSource.automatic: N_("automatic")}


def _ts(nullable: bool = False, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable, index=index)


def _text() -> Column:  # type: ignore[type-arg]
    return Column(Text, nullable=False, default="")


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class JuryRound(SQLModel, table=True):
    """One round of a challenge's selection. Times are stored in UTC and entered in the programme's time zone."""

    __tablename__ = "jury_round"
    __table_args__ = (
        UniqueConstraint("challenge_id", "position"),
        CheckConstraint(_in("kind", RoundKind), name="kind"),
        CheckConstraint(_in("status", RoundStatus), name="status"),
        CheckConstraint(_in("others_visible", OthersVisible), name="others_visible"),
        CheckConstraint("reviews_per_proposal BETWEEN 1 AND 50", name="reviews_per_proposal"),
        CheckConstraint("max_load IS NULL OR max_load >= 1", name="max_load"),
        CheckConstraint("closes_at > opens_at", name="times"),
    )

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True, ondelete="CASCADE")
    position: int
    name: str = Field(max_length=120)
    kind: str = Field(default=RoundKind.written, max_length=16)
    status: str = Field(default=RoundStatus.draft, max_length=16, index=True)
    opens_at: datetime = Field(sa_column=_ts())
    closes_at: datetime = Field(sa_column=_ts(index=True))
    reviews_per_proposal: int = Field(default=3)
    max_load: int | None = Field(default=None)
    blind: bool = Field(default=False)
    others_visible: str = Field(default=OthersVisible.after_close, max_length=16)
    slots_bookable: bool = Field(default=False, description="Audition slots open for startups to book")
    revision: int = Field(default=1, description="Bumped by every change; the ETag and the form's version check")
    opened_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    published_at: datetime | None = Field(
        default=None, sa_column=_ts(nullable=True), description="When the outcomes were sent (status decided)"
    )
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class JuryCriterion(SQLModel, table=True):
    """A weighted criterion of a round, scored on min..max in steps of `step` (1 or 0.5)."""

    __tablename__ = "jury_criterion"
    __table_args__ = (
        CheckConstraint("weight > 0", name="weight"),
        CheckConstraint("max_score > min_score", name="scale"),
        CheckConstraint("step IN (0.5, 1)", name="step"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="jury_round.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0)
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=2000)
    weight: float = Field(default=1.0)
    min_score: float = Field(default=0.0)
    max_score: float = Field(default=5.0)
    step: float = Field(default=1.0)
    comment_required: bool = Field(default=False)


class JuryEntry(SQLModel, table=True):
    """A proposal a round judges. Left out by the staff (with a reason), it stays listed but is not assigned."""

    __tablename__ = "jury_entry"
    __table_args__ = (UniqueConstraint("round_id", "proposal_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="jury_round.id", index=True, ondelete="CASCADE")
    proposal_id: int = Field(foreign_key="proposal.id", index=True, ondelete="CASCADE")
    excluded_reason: str = Field(default="", max_length=1000)
    excluded_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    added_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Juror(SQLModel, table=True):
    """A person sitting on a round: a user, or an invited outside expert until they accept (user_id None)."""

    __tablename__ = "juror"
    __table_args__ = (UniqueConstraint("round_id", "user_id"), UniqueConstraint("round_id", "email"))

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="jury_round.id", index=True, ondelete="CASCADE")
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=254, description="Lower-cased; the invitation's address for an outside expert")
    name: str = Field(max_length=120)
    themes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    invitation_hash: str | None = Field(default=None, max_length=64, unique=True)
    invitation_expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    accepted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    added_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class JuryConflict(SQLModel, table=True):
    """A declared conflict of interest between a person and a startup. It holds in every round, wherever it was
    declared: a conflict is a fact about the person. Automatic conflicts are computed, never stored."""

    __tablename__ = "jury_conflict"
    __table_args__ = (UniqueConstraint("user_id", "startup_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    startup_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    round_id: int | None = Field(default=None, foreign_key="jury_round.id", ondelete="SET NULL")
    reason: str = Field(max_length=1000)
    declared_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class JuryBid(SQLModel, table=True):
    """A juror's wish to review an entry (or not), weighed by the automatic assignment."""

    __tablename__ = "jury_bid"
    __table_args__ = (UniqueConstraint("juror_id", "entry_id"), CheckConstraint(_in("bid", Bid), name="bid"))

    id: int | None = Field(default=None, primary_key=True)
    juror_id: int = Field(foreign_key="juror.id", index=True, ondelete="CASCADE")
    entry_id: int = Field(foreign_key="jury_entry.id", index=True, ondelete="CASCADE")
    bid: str = Field(max_length=16)


class JuryAssignment(SQLModel, table=True):
    """A juror's task: one entry of the round to review."""

    __tablename__ = "jury_assignment"
    __table_args__ = (UniqueConstraint("juror_id", "entry_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="jury_round.id", index=True, ondelete="CASCADE")
    juror_id: int = Field(foreign_key="juror.id", index=True, ondelete="CASCADE")
    entry_id: int = Field(foreign_key="jury_entry.id", index=True, ondelete="CASCADE")
    manual: bool = Field(default=False, description="Added by the staff by hand: kept by the automatic assignment")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class JuryReview(SQLModel, table=True):
    """A juror's review of an assignment: scores per criterion id, a comment meant for the startup, a note for
    the jury only, or an abstention with its reason."""

    __tablename__ = "jury_review"
    __table_args__ = (CheckConstraint(_in("status", ReviewStatus), name="status"),)

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="jury_assignment.id", unique=True, ondelete="CASCADE")
    status: str = Field(default=ReviewStatus.draft, max_length=16, index=True)
    scores: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    criterion_comments: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    comment: str = Field(default="", sa_column=_text())
    note: str = Field(default="", sa_column=_text())
    abstain_reason: str = Field(default="", max_length=1000)
    revision: int = Field(default=1)
    submitted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    # indexed: the ranking's cached computation is keyed by the latest change (app/selection/ranking.py)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(index=True))


class JuryReviewVersion(SQLModel, table=True):
    """A review as it was each time it was submitted or abstained: the history of a review edited after
    submission, until the round closes."""

    __tablename__ = "jury_review_version"
    __table_args__ = (UniqueConstraint("review_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="jury_review.id", index=True, ondelete="CASCADE")
    number: int
    status: str = Field(max_length=16)
    scores: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    criterion_comments: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    comment: str = Field(default="", sa_column=_text())
    note: str = Field(default="", sa_column=_text())
    abstain_reason: str = Field(default="", max_length=1000)
    saved_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    saved_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class PitchSlot(SQLModel, table=True):
    """A time for an audition pitch: assigned to an entry by the operator, or booked by the entry's startup."""

    __tablename__ = "pitch_slot"
    __table_args__ = (CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="duration"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="jury_round.id", index=True, ondelete="CASCADE")
    starts_at: datetime = Field(sa_column=_ts())
    duration_minutes: int = Field(default=20)
    place: str = Field(default="", max_length=300)
    video_url: str = Field(default="", max_length=500)
    entry_id: int | None = Field(default=None, foreign_key="jury_entry.id", unique=True, ondelete="SET NULL")
    booked_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    booked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    sequence: int = Field(default=0, description="The iCalendar SEQUENCE: bumped each time the booking changes")
