"""Input and output shapes of proposals, their questions and startup profiles (shared by forms and the API)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, field_validator

from app.challenges.schemas import Id, OrganisationRef

Status = Literal[
    "draft", "submitted", "withdrawn", "eligible", "ineligible", "shortlisted", "selected", "rejected", "waitlisted"
]
Kind = Literal["short_text", "long_text", "single_choice", "multiple_choice", "number", "file"]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
AnswerValue = str | float | int | list[str] | None


class TeamMember(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    role: Annotated[str, StringConstraints(max_length=200)] = ""


class Milestone(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    month: Annotated[int, Field(ge=1, le=9)]
    milestone: Annotated[str, StringConstraints(min_length=1, max_length=300)]


class ProposalFields(BaseModel):
    """Every field the startup edits; all optional so the same shape serves drafts and PATCH."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Annotated[str, StringConstraints(max_length=160)] | None = None
    summary: Annotated[str, StringConstraints(max_length=500)] | None = None
    description: LongText | None = Field(default=None, description="The solution (Markdown)")
    data_use: LongText | None = Field(default=None, description="How the challenge's data will be used")
    experimentation_plan: LongText | None = Field(default=None, description="The test-site experimentation plan")
    team: list[TeamMember] | None = Field(default=None, max_length=50)
    trl: Annotated[int, Field(ge=1, le=9)] | None = Field(default=None, description="Technology readiness level")
    needs: LongText | None = Field(default=None, description="What the startup needs from the sponsor")
    plan: list[Milestone] | None = Field(default=None, max_length=50, description="The nine-month plan")
    kpis: list[Annotated[str, StringConstraints(max_length=120)]] | None = Field(
        default=None, max_length=30, description="Names of the challenge KPIs the proposal addresses"
    )
    answers: dict[str, AnswerValue] | None = Field(
        default=None, description="Answers to the challenge's extra questions, by question id"
    )
    video_url: HttpUrl | Literal[""] | None = None

    @field_validator("answers")
    @classmethod
    def _bounded(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(value) > 100:
            raise ValueError("Too many answers.")
        return value


class ProposalCreate(ProposalFields):
    challenge: Id
    startup: Id | None = Field(default=None, description="The startup applying; defaults to the caller's only one")


class ProposalUpdate(ProposalFields):
    pass


class SubmitRequest(BaseModel):
    accept_terms: bool = Field(description="Must be true: the startup accepts the challenge's terms and IP terms")
    terms_version: Annotated[int, Field(ge=1, le=1_000_000)] | None = Field(
        default=None,
        description="The version of the terms you read (the challenge's `terms_version`); 409 if it changed",
    )
    terms_language: Literal["fr", "en", "ar"] | None = Field(
        default=None,
        description="The language of the terms you read (in `ip_terms_translations` or `ip_terms_language`); "
        "the request's language when omitted",
    )


class EligibilityDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    eligible: bool
    reason: Annotated[str, StringConstraints(max_length=2000)] = ""


class QuestionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: Kind
    label: Annotated[str, StringConstraints(min_length=3, max_length=300)]
    help: Annotated[str, StringConstraints(max_length=1000)] = ""
    choices: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=30
    )
    required: bool = False


class QuestionUpdate(BaseModel):
    """What an extra question says; its kind of answer stays as it was asked."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    label: Annotated[str, StringConstraints(min_length=3, max_length=300)]
    help: Annotated[str, StringConstraints(max_length=1000)] = ""
    choices: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=30
    )
    required: bool = False


class QuestionOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order: list[Id] = Field(description="Every question id of the challenge, once each, in the new order")


class QuestionPublic(BaseModel):
    id: int
    challenge: int
    kind: Kind
    label: str
    help: str
    choices: list[str]
    required: bool


class AttachmentPublic(BaseModel):
    id: int
    url: str
    download_url: str
    name: str
    size: int
    sha256: str
    media_type: str
    question: int | None
    created_at: datetime
    updated_at: datetime


class VersionPublic(BaseModel):
    number: int
    receipt_number: str
    sha256: str
    terms_version: int
    terms_sha256: str
    terms_language: str | None
    accepted_by: str
    submitted_at: datetime


class ProposalPublic(BaseModel):
    id: int
    url: str
    html_url: str
    challenge: int
    startup: OrganisationRef
    status: Status
    title: str
    summary: str
    description: str
    data_use: str
    experimentation_plan: str
    team: list[dict[str, Any]]
    trl: int | None
    needs: str
    plan: list[dict[str, Any]]
    kpis: list[str]
    answers: dict[str, Any]
    video_url: str
    attachments: list[AttachmentPublic]
    revision: int = Field(description="The working copy's revision (for the startup); the ETag carries it")
    version: int | None = Field(description="The submitted version shown (sponsors see the last one only)")
    versions: list[VersionPublic]
    has_unsubmitted_changes: bool
    eligibility_reason: str | None
    eligibility_at: datetime | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
