"""Tables of the programmes domain."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class PhaseKind(StrEnum):
    """The calendar of a DataCity-style season, in order."""

    definition = "definition"
    call = "call"
    preselection = "preselection"
    auditions = "auditions"
    final_decision = "final_decision"
    kickoff = "kickoff"
    prototyping = "prototyping"
    demo_day = "demo_day"
    follow_up = "follow_up"


PHASE_ORDER = list(PhaseKind)


class Programme(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    name: str = Field(max_length=160)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    operator_id: int = Field(foreign_key="organisation.id", index=True)
    city_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    timezone: str = Field(default="Africa/Casablanca", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ProgrammePartner(SQLModel, table=True):
    __tablename__ = "programme_partner"
    __table_args__ = (UniqueConstraint("programme_id", "organisation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")


class ProgrammePhase(SQLModel, table=True):
    __tablename__ = "programme_phase"
    __table_args__ = (
        UniqueConstraint("programme_id", "kind"),
        CheckConstraint("ends_on >= starts_on", name="dates"),
    )

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)
    starts_on: date
    ends_on: date
