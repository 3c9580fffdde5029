"""Tables of the proposals domain: proposals, their submitted versions, attachments and the challenge's extra
questions."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow
from app.i18n import N_, gettext


class ProposalStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    withdrawn = "withdrawn"
    eligible = "eligible"
    ineligible = "ineligible"
    shortlisted = "shortlisted"
    selected = "selected"
    rejected = "rejected"
    waitlisted = "waitlisted"


# Each status's name, as every face shows it (in the reader's language): pages, exports.
STATUS_LABELS: dict[str, str] = {
    ProposalStatus.draft: N_("Draft"),
    ProposalStatus.submitted: N_("Submitted"),
    ProposalStatus.withdrawn: N_("Withdrawn"),
    ProposalStatus.eligible: N_("Eligible"),
    ProposalStatus.ineligible: N_("Not eligible"),
    ProposalStatus.shortlisted: N_("Shortlisted"),
    ProposalStatus.selected: N_("Selected"),
    ProposalStatus.rejected: N_("Not selected"),
    ProposalStatus.waitlisted: N_("Waiting list"),
}


def status_label(status: str) -> str:
    """A status's name in the current language (an unknown one as it is)."""
    return gettext(STATUS_LABELS[status]) if status in STATUS_LABELS else status


class QuestionKind(StrEnum):
    short_text = "short_text"
    long_text = "long_text"
    single_choice = "single_choice"
    multiple_choice = "multiple_choice"
    number = "number"
    file = "file"


def _ts(nullable: bool = False, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable, index=index)


def _text() -> Column:  # type: ignore[type-arg]
    return Column(Text, nullable=False, default="")


class ProposalQuestion(SQLModel, table=True):
    """An extra question a challenge's sponsors ask every applicant."""

    __tablename__ = "proposal_question"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('short_text', 'long_text', 'single_choice', 'multiple_choice', 'number', 'file')", name="kind"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0)
    kind: str = Field(max_length=20)
    label: str = Field(max_length=300)
    help: str = Field(default="", max_length=1000)
    choices: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    required: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Proposal(SQLModel, table=True):
    """A startup's proposal to a challenge: the working copy its members edit. What sponsors read is the last
    submitted version (ProposalVersion)."""

    __table_args__ = (
        UniqueConstraint("challenge_id", "startup_id"),
        CheckConstraint(
            "status IN ('draft', 'submitted', 'withdrawn', 'eligible', 'ineligible', 'shortlisted', 'selected', "
            "'rejected', 'waitlisted')",
            name="status",
        ),
        CheckConstraint("trl IS NULL OR (trl BETWEEN 1 AND 9)", name="trl"),
    )

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    startup_id: int = Field(foreign_key="organisation.id", index=True)
    status: str = Field(default=ProposalStatus.draft, max_length=16, index=True)
    title: str = Field(default="", max_length=160)
    summary: str = Field(default="", max_length=500)
    description: str = Field(default="", sa_column=_text())
    data_use: str = Field(default="", sa_column=_text())
    experimentation_plan: str = Field(default="", sa_column=_text())
    team: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    trl: int | None = Field(default=None)
    needs: str = Field(default="", sa_column=_text())
    plan: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    kpis: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    video_url: str = Field(default="", max_length=500)
    revision: int = Field(default=1, description="Bumped by every save; the ETag and the form's version check")
    submitted_revision: int | None = Field(default=None, description="The revision last submitted")
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    updated_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    submitted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    withdrawn_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    eligibility_reason: str = Field(default="", max_length=2000)
    eligibility_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    eligibility_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ProposalVersion(SQLModel, table=True):
    """One submission: a frozen copy of the proposal, the terms accepted, who submitted and when, the receipt."""

    __tablename__ = "proposal_version"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True, ondelete="CASCADE")
    number: int
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    sha256: str = Field(max_length=64)
    receipt_number: str = Field(max_length=40, unique=True)
    terms_id: int = Field(foreign_key="challenge_terms.id")
    terms_version: int
    terms_sha256: str = Field(max_length=64, description="Of exactly the text accepted, in terms_language")
    terms_language: str | None = Field(default=None, max_length=8, description="None: accepted before it was kept")
    accepted_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    accepted_by_name: str = Field(max_length=120)
    submitted_at: datetime = Field(sa_column=_ts())


class ProposalAttachment(SQLModel, table=True):
    """A file of a proposal (pitch deck, answer to a file question). Removed from the working copy, it stays
    stored while a submitted version lists it."""

    __tablename__ = "proposal_attachment"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True, ondelete="CASCADE")
    question_id: int | None = Field(default=None, foreign_key="proposal_question.id", ondelete="SET NULL")
    name: str = Field(max_length=200)
    size: int
    sha256: str = Field(max_length=64)
    media_type: str = Field(max_length=120)
    storage_key: str = Field(max_length=200, unique=True)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    removed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ProposalRevision(SQLModel, table=True):
    """What one save of the working copy changed: the new value of each field it changed, keyed as
    drafts.field_values names them. A `full` row holds every field (the proposal's creation). Read back to
    merge a teammate's save with an editor's form that started from an older revision."""

    __tablename__ = "proposal_revision"
    __table_args__ = (UniqueConstraint("proposal_id", "revision"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True, ondelete="CASCADE")
    revision: int
    editor: str | None = Field(default=None, max_length=32, description="The editing page that saved it")
    saved_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    saved_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    full: bool = Field(default=False)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
