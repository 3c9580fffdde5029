"""Tables of the prototyping projects."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow
from app.i18n import N_


class ProjectStatus(StrEnum):
    active = "active"
    completed = "completed"
    stopped = "stopped"


PROJECT_STATUS_LABELS = {
    ProjectStatus.active: N_("Active"),
    ProjectStatus.completed: N_("Completed"),
    ProjectStatus.stopped: N_("Stopped"),
}


class Project(SQLModel, table=True):
    """A selected proposal's prototyping: opened when its selection is confirmed, one per proposal."""

    __tablename__ = "project"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s.value) for s in ProjectStatus)})", name="status"),
        CheckConstraint("ends_on >= starts_on", name="dates"),
    )

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", unique=True, ondelete="CASCADE")
    startup_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    challenge_id: int = Field(foreign_key="challenge.id", index=True, ondelete="CASCADE")
    decision_id: int | None = Field(default=None, foreign_key="selection_decision.id", ondelete="SET NULL")
    title: str = Field(max_length=200)
    status: str = Field(default=ProjectStatus.active, max_length=16, index=True)
    starts_on: date
    ends_on: date
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
