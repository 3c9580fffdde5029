"""Input and output shapes of programmes."""

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.programmes.models import PhaseKind


class PhaseIn(BaseModel):
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
    name: Annotated[str, StringConstraints(min_length=3, max_length=160)]
    slug: Annotated[str, StringConstraints(max_length=80, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")] | None = None
    description: Annotated[str, StringConstraints(max_length=20_000)] = ""
    operator: int | None = Field(default=None, description="Operator organisation id; defaults to the caller's")
    city: int | None = None
    partners: list[int] = Field(default_factory=list)
    timezone: Annotated[str, StringConstraints(max_length=64)] = "Africa/Casablanca"
    phases: list[PhaseIn] = Field(default_factory=list)


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
