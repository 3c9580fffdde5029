"""Input and output shapes of challenges and questions (shared by HTML forms and the JSON API)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from app.challenges.models import THEMES, ChallengeStatus

Theme = Literal[
    "mobility",
    "energy",
    "water",
    "waste",
    "buildings",
    "public_space",
    "connectivity",
    "citizen_services",
    "safety",
    "environment",
    "economy",
    "health",
]
assert set(Theme.__args__) == set(THEMES)  # type: ignore[attr-defined]
Status = Literal["draft", "published", "closed", "awarded", "archived"]
assert set(Status.__args__) == set(ChallengeStatus)  # type: ignore[attr-defined]
Slug = Annotated[str, StringConstraints(max_length=80, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
Markdown = Annotated[str, StringConstraints(max_length=20_000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]
Id = Annotated[int, Field(ge=1, le=2_147_483_647)]


class Kpi(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    unit: Short = ""
    baseline: Short = ""
    target: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class TestSite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=160)]
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = ""
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None


class ChallengeFields(BaseModel):
    """Every editable field; all optional so the same shape serves PATCH."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Annotated[str, StringConstraints(min_length=3, max_length=160)] | None = None
    slug: Slug | None = None
    summary: Annotated[str, StringConstraints(min_length=1, max_length=300)] | None = None
    problem: Markdown | None = None
    context: Markdown | None = None
    expected_outcome: Markdown | None = None
    eligibility: Markdown | None = None
    ip_terms: Annotated[str, StringConstraints(min_length=1, max_length=20_000)] | None = None
    sponsors: list[Id] | None = Field(default=None, max_length=50, description="Co-sponsor organisation ids")
    deadline: datetime | None = None
    qa_closes_at: datetime | None = None
    themes: list[Theme] | None = None
    sdgs: list[Annotated[int, Field(ge=1, le=17)]] | None = None
    kpis: list[Kpi] | None = Field(default=None, max_length=30)
    test_sites: list[TestSite] | None = Field(default=None, max_length=30)

    @field_validator("deadline", "qa_closes_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("Give the time zone of the date, e.g. 2017-06-30T18:00:00+01:00.")
        return value


class ChallengeCreate(ChallengeFields):
    programme: Id
    lead_sponsor: Id | None = Field(default=None, description="Defaults to the caller's organisation")
    title: Annotated[str, StringConstraints(min_length=3, max_length=160)]
    summary: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    deadline: datetime


class ChallengeUpdate(ChallengeFields):
    status: Literal["awarded", "archived"] | None = Field(
        default=None, description="Close the life cycle: a closed challenge becomes awarded, then archived"
    )
    note: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        default=None, description="Why it changed (shown in the public change log after publication)"
    )


class OrganisationRef(BaseModel):
    id: int
    slug: str
    name: str


class ChangePublic(BaseModel):
    changed_at: datetime
    fields: list[str]
    note: str


class ChallengePublic(BaseModel):
    id: int
    url: str
    html_url: str
    programme: int
    slug: str
    title: str
    summary: str
    problem: str
    context: str
    expected_outcome: str
    eligibility: str
    ip_terms: str
    ip_terms_language: str | None = Field(description="The language `ip_terms` is written in, when recorded")
    ip_terms_translations: dict[str, str] = Field(
        description="The same terms in other languages, by language (the default terms are in fr, en and ar)"
    )
    terms_version: int
    lead_sponsor: OrganisationRef
    sponsors: list[OrganisationRef]
    deadline: datetime
    qa_closes_at: datetime | None
    status: Status
    themes: list[str]
    sdgs: list[int]
    kpis: list[dict[str, Any]]
    test_sites: list[dict[str, Any]]
    changes: list[ChangePublic]
    image_url: str | None = None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


class QuestionCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    body: Annotated[str, StringConstraints(min_length=10, max_length=4000)]


class AnswerCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    answer: Annotated[str, StringConstraints(min_length=1, max_length=8000)]


class QuestionPublic(BaseModel):
    id: int
    url: str
    challenge: int
    body: str
    answer: str | None
    created_at: datetime
    updated_at: datetime
    answered_at: datetime | None
