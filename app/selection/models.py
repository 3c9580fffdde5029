"""Tables of the selection: the decisions on a round's entries (proposed by one member of the staff, confirmed by
another), the jury's deliberation on each entry, and the staff's notes."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow
from app.i18n import N_


class DecisionKind(StrEnum):
    shortlisted = "shortlisted"  # goes on to the next round
    selected = "selected"
    waitlisted = "waitlisted"
    rejected = "rejected"


class DecisionStatus(StrEnum):
    proposed = "proposed"  # not in force until a second member of the staff confirms it
    confirmed = "confirmed"  # in force: the proposal's status follows it
    withdrawn = "withdrawn"  # a proposal taken back (by its proposer or replaced by another) before confirmation
    superseded = "superseded"  # was in force until a later confirmed decision on the entry replaced it


DECISION_LABELS = {
    DecisionKind.shortlisted: N_("Shortlisted"),
    DecisionKind.selected: N_("Selected"),
    DecisionKind.waitlisted: N_("Waiting list"),
    DecisionKind.rejected: N_("Not selected"),
}
DECISION_STATUS_LABELS = {
    DecisionStatus.proposed: N_("Proposed, to be confirmed"),
    DecisionStatus.confirmed: N_("Confirmed"),
    DecisionStatus.withdrawn: N_("Withdrawn"),
    DecisionStatus.superseded: N_("Superseded"),
}


def _ts(nullable: bool = False, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable, index=index)


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


def _one_per_entry(name: str, status: DecisionStatus) -> Index:
    """At most one decision of this status per entry: two staff members proposing at once cannot both win."""
    where = text(f"status = '{status.value}'")
    return Index(name, "entry_id", unique=True, sqlite_where=where, postgresql_where=where)


class SelectionDecision(SQLModel, table=True):
    """A decision on one entry of a round. Confirmed, it records the ranking row it was taken on and the SHA-256
    of the canonical JSON of the reviews it rests on (app/selection/evidence.py), so that it can later be shown
    which scores, by which jurors, it came from."""

    __tablename__ = "selection_decision"
    __table_args__ = (
        CheckConstraint(_in("decision", DecisionKind), name="decision"),
        CheckConstraint(_in("status", DecisionStatus), name="status"),
        CheckConstraint("confirmed_by_id IS NULL OR confirmed_by_id <> proposed_by_id", name="two_people"),
        _one_per_entry("uq_selection_decision_proposed_entry", DecisionStatus.proposed),
        _one_per_entry("uq_selection_decision_confirmed_entry", DecisionStatus.confirmed),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="jury_round.id", index=True, ondelete="CASCADE")
    entry_id: int = Field(foreign_key="jury_entry.id", index=True, ondelete="CASCADE")
    proposal_id: int = Field(foreign_key="proposal.id", index=True, ondelete="CASCADE")
    decision: str = Field(max_length=16)
    rationale: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    status: str = Field(default=DecisionStatus.proposed, max_length=16, index=True)
    proposed_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    proposed_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    confirmed_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    confirmed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    ended_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    ranking_row: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    reviews_sha256: str | None = Field(default=None, max_length=64)
    reviews_count: int | None = Field(default=None)
    replaces_id: int | None = Field(default=None, foreign_key="selection_decision.id", ondelete="SET NULL")
    notified_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class DeliberationMessage(SQLModel, table=True):
    """A message in the jury's discussion of one entry: its non-conflicted jurors and the staff."""

    __tablename__ = "deliberation_message"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="jury_round.id", index=True, ondelete="CASCADE")
    entry_id: int = Field(foreign_key="jury_entry.id", index=True, ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    author_name: str = Field(max_length=120, description="As the author was named when writing")
    body: str = Field(sa_column=Column(Text, nullable=False))
    mentions: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class StaffNote(SQLModel, table=True):
    """A note of the staff on one entry: never shown to jurors or startups."""

    __tablename__ = "staff_note"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="jury_round.id", index=True, ondelete="CASCADE")
    entry_id: int = Field(foreign_key="jury_entry.id", index=True, ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    author_name: str = Field(max_length=120)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
