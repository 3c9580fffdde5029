"""Tables of the challenges domain."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow
from app.i18n import N_


class ChallengeStatus(StrEnum):
    draft = "draft"
    published = "published"
    closed = "closed"  # never stored: a published challenge whose deadline has passed
    awarded = "awarded"
    archived = "archived"


# Each status's label (a message id), as badges and the list's filter show them.
STATUS_LABELS = {
    ChallengeStatus.draft: N_("Draft"),
    ChallengeStatus.published: N_("Open"),
    ChallengeStatus.closed: N_("Closed"),
    ChallengeStatus.awarded: N_("Awarded"),
    ChallengeStatus.archived: N_("Archived"),
}
# The stored statuses of a public challenge (every one but draft; "closed" is never stored).
STORED_PUBLIC_STATUSES = (ChallengeStatus.published, ChallengeStatus.awarded, ChallengeStatus.archived)
# Stored statuses of a challenge not yet awarded: drafts, open and closed calls (what staff work on).
IN_PROGRESS = (ChallengeStatus.draft, ChallengeStatus.published)
# The statuses a challenge list filters by, as everyone sees them; staff of drafts also get draft
# (permissions.statuses_listed_for).
LISTED_STATUSES = (ChallengeStatus.published, ChallengeStatus.closed, ChallengeStatus.awarded, ChallengeStatus.archived)


# A challenge's themes (stored codes) and their labels (message ids), in the order forms offer them.
THEME_LABELS = {
    "mobility": N_("Mobility"),
    "energy": N_("Energy"),
    "water": N_("Water"),
    "waste": N_("Waste"),
    "buildings": N_("Buildings & construction"),
    "public_space": N_("Public space"),
    "connectivity": N_("Connectivity"),
    "citizen_services": N_("Citizen services"),
    "safety": N_("Safety"),
    "environment": N_("Environment"),
    "economy": N_("Local economy"),
    "health": N_("Health"),
}
THEMES = tuple(THEME_LABELS)


def _ts(nullable: bool = False, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable, index=index)


class Challenge(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("programme_id", "slug"),
        CheckConstraint("status IN ('draft', 'published', 'awarded', 'archived')", name="status"),
        Index("ix_challenge_status_deadline", "status", "deadline"),
    )

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    lead_sponsor_id: int = Field(foreign_key="organisation.id", index=True)
    slug: str = Field(max_length=80)
    title: str = Field(max_length=160)
    summary: str = Field(max_length=300)
    problem: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    context: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    expected_outcome: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    eligibility: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    themes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sdgs: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    kpis: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    test_sites: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    deadline: datetime = Field(sa_column=_ts(index=True))
    qa_closes_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    status: str = Field(default=ChallengeStatus.draft, max_length=16)
    terms_version: int = Field(default=1)
    image_key: str | None = Field(default=None, max_length=200)
    revision: int = Field(default=1, description="Bumped by every edit; the ETag of the API")
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    published_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ChallengeSponsor(SQLModel, table=True):
    """Co-sponsors of a challenge (the lead sponsor is on the challenge itself)."""

    __tablename__ = "challenge_sponsor"
    __table_args__ = (UniqueConstraint("challenge_id", "organisation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")


class ChallengeTerms(SQLModel, table=True):
    """A version of a challenge's IP terms. A version accepted by a proposal is frozen: edits make a new one.
    `ip_terms` is in `language` (None when not recorded); `translations` holds the same terms in other
    languages (the default terms only, see app/challenges/terms.py)."""

    __tablename__ = "challenge_terms"
    __table_args__ = (UniqueConstraint("challenge_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True, ondelete="CASCADE")
    version: int
    ip_terms: str = Field(sa_column=Column(Text, nullable=False))
    language: str | None = Field(default=None, max_length=8)
    translations: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    frozen_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ChallengeChange(SQLModel, table=True):
    """The public change log: what changed in a challenge after its publication."""

    __tablename__ = "challenge_change"

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True, ondelete="CASCADE")
    changed_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    changed_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    fields: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str = Field(default="", max_length=500)


class ChallengeFollower(SQLModel, table=True):
    __tablename__ = "challenge_follower"
    __table_args__ = (UniqueConstraint("challenge_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Question(SQLModel, table=True):
    """A question on a challenge. The asker is recorded for moderation but never shown."""

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True, ondelete="CASCADE")
    asked_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    answered_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
