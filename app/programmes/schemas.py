"""Input and output shapes of programmes."""

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.programmes.models import PhaseKind

Name = Annotated[str, StringConstraints(min_length=3, max_length=160)]
Slug = Annotated[str, StringConstraints(max_length=80, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
Description = Annotated[str, StringConstraints(max_length=20_000)]
TimeZone = Annotated[str, StringConstraints(max_length=64)]
# an organisation id: bounded to what a 32-bit INTEGER column holds (a clean 422 rather than a database error)
OrganisationId = Annotated[int, Field(ge=1, le=2_147_483_647)]
Partners = Annotated[list[OrganisationId], Field(max_length=200)]


class PhaseIn(BaseModel):
    """One phase of the calendar; the service also checks the order of phases and that each appears once."""

    model_config = ConfigDict(extra="forbid")
    kind: PhaseKind
    starts_on: date
    ends_on: date

    @model_validator(mode="after")
    def _ordered(self) -> "PhaseIn":
        if self.ends_on < self.starts_on:
            raise ValueError("A phase cannot end before it starts.")
        return self


class ProgrammeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Name
    slug: Slug | None = None
    description: Description = ""
    operator: OrganisationId | None = Field(
        default=None, description="Operator organisation id; defaults to the caller's"
    )
    city: OrganisationId | None = None
    partners: Partners = Field(default_factory=list)
    timezone: TimeZone = "Africa/Casablanca"
    phases: list[PhaseIn] = Field(
        default_factory=list, max_length=len(PhaseKind) * 2, description="The calendar; a default one when empty"
    )


class ProgrammeUpdate(BaseModel):
    """A partial change: fields left out stay as they are; `partners` and `phases` replace the whole list;
    `city: null` removes the city. The operator organisation does not change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Name | None = None
    slug: Slug | None = None
    description: Description | None = None
    city: OrganisationId | None = None
    partners: Partners | None = None
    timezone: TimeZone | None = None
    phases: Annotated[list[PhaseIn], Field(max_length=len(PhaseKind) * 2)] | None = None


class PhasePublic(BaseModel):
    kind: PhaseKind
    starts_on: date
    ends_on: date
    current: bool


class ProgrammePublic(BaseModel):
    id: int
    url: str
    html_url: str
    slug: str
    name: str
    description: str
    operator: int
    city: int | None
    partners: list[int]
    timezone: str
    current_phase: PhaseKind | None
    phases: list[PhasePublic]
    created_at: datetime
    updated_at: datetime
