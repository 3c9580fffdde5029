"""Input shapes of the jury (shared by the HTML forms and the JSON API). Times without an offset are read in
the programme's time zone by the service."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from app.challenges.schemas import Theme
from app.i18n import N_, gettext
from app.jury.models import Bid, OthersVisible, RoundKind
from app.validation import Email

Kind = Literal["written", "audition", "final"]
assert set(Kind.__args__) == set(RoundKind)  # type: ignore[attr-defined]
Visibility = Literal["after_own", "after_close", "never"]
assert set(Visibility.__args__) == set(OthersVisible)  # type: ignore[attr-defined]
BidValue = Literal["eager", "willing", "unwilling"]
assert set(BidValue.__args__) == set(Bid)  # type: ignore[attr-defined]
Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
# PostgreSQL's text holds no NUL character: every free text drops them before its other checks (as deliberation does)
NO_NUL = BeforeValidator(lambda value: value.replace("\x00", "") if isinstance(value, str) else value)
Name = Annotated[str, NO_NUL, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Reason = Annotated[str, NO_NUL, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Score = Annotated[float, Field(ge=-1000, le=1000)]


class CriterionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name
    description: Annotated[str, NO_NUL, StringConstraints(max_length=2000)] = ""
    weight: Annotated[float, Field(gt=0, le=100)] = 1.0
    min: Score = 0
    max: Score = 5
    step: Annotated[float, Field(description="1: whole points; 0.5: half points")] = 1
    comment_required: bool = False

    @model_validator(mode="after")
    def _scale(self) -> "CriterionIn":
        if self.min >= self.max:
            raise ValueError("The scale's minimum must be below its maximum.")
        if self.step not in (0.5, 1):
            raise ValueError("Score in whole points (1) or half points (0.5).")
        return self


def datacity_criteria() -> list[CriterionIn]:
    """DataCity's five criteria, equally weighted on 0–5 (the preset offered when creating a round)."""
    return [CriterionIn(name=gettext(name), description=gettext(guidance)) for name, guidance in DATACITY_CRITERIA]


# DataCity's criteria (message ids: a round created in French gets them in French).
DATACITY_CRITERIA = (
    (N_("Team"), N_("Skills, commitment and completeness of the team.")),
    (
        N_("Ability to run the experiment on the test site"),
        N_("A realistic plan, means and calendar to experiment on the challenge's site."),
    ),
    (N_("Potential to scale"), N_("Beyond the test site: other districts, cities, markets.")),
    (N_("Problem/solution fit"), N_("How well the solution answers the challenge's problem.")),
    (N_("Use of the data"), N_("How the challenge's datasets are used and valued.")),
)


class RoundFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name | None = None
    kind: Kind | None = None
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    reviews_per_proposal: Annotated[int, Field(ge=1, le=50)] | None = None
    max_load: Annotated[int, Field(ge=1, le=10_000)] | None = None
    blind: bool | None = None
    others_visible: Visibility | None = None
    slots_bookable: bool | None = None
    criteria: Annotated[list[CriterionIn], Field(min_length=1, max_length=30)] | None = None


class RoundCreate(RoundFields):
    name: Name
    opens_at: datetime
    closes_at: datetime
    kind: Kind = "written"
    reviews_per_proposal: Annotated[int, Field(ge=1, le=50)] = 3
    blind: bool = False
    others_visible: Visibility = "after_close"
    preset: Literal["datacity"] | None = Field(default=None, description="Start from DataCity's five criteria")


class RoundUpdate(RoundFields):
    """Partial: the fields given change (`max_load: null` removes the limit)."""


class EntriesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    proposals: Annotated[list[Id], Field(max_length=20_000)]


class ExclusionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: Reason


class JurorIn(BaseModel):
    """A user by id, or an invitation by email (with a name) for someone who may have no account."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    user: Id | None = None
    email: Email | None = None
    name: Annotated[str, NO_NUL, StringConstraints(strip_whitespace=True, max_length=120)] = ""
    themes: list[Theme] = []

    @model_validator(mode="after")
    def _one_of(self) -> "JurorIn":
        if (self.user is None) == (self.email is None):
            raise ValueError("Give either a user or an email address.")
        return self


class ThemesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    themes: list[Theme] = []


class ConflictIn(BaseModel):
    """A conflict with a startup named by id (`startup`, one of the round's), or with the startup behind an
    assignment (`assignment`): in a blind round a juror names the assignment, never the startup."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    startup: Id | None = Field(default=None, description="A startup of the round (not in a blind round's jury)")
    assignment: Id | None = Field(
        default=None, description="An assignment of the juror: the conflict is with its proposal's startup"
    )
    reason: Reason
    juror: Id | None = Field(default=None, description="The juror (staff only); a juror declares their own")

    @model_validator(mode="after")
    def _one_of(self) -> "ConflictIn":
        if (self.startup is None) == (self.assignment is None):
            raise ValueError("Give either a startup or an assignment.")
        return self


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    juror: Id
    proposal: Id


class BidIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bid: BidValue | None


class ReviewIn(BaseModel):
    """A review as saved: a draft, submitted (`submit`), or an abstention (`abstain` with a reason)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    scores: dict[str, Score | None] = {}
    comments: dict[str, Annotated[str, NO_NUL, StringConstraints(max_length=5000)]] = {}
    comment: Annotated[str, NO_NUL, StringConstraints(max_length=10_000)] = ""
    note: Annotated[str, NO_NUL, StringConstraints(max_length=10_000)] = ""
    submit: bool = False
    abstain: bool = False
    reason: Annotated[str, NO_NUL, StringConstraints(max_length=1000)] = ""
    revision: int | None = Field(default=None, description="The review's revision the edit started from")
