"""Input shapes of the selection's decisions (shared by the HTML forms and the JSON API)."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.selection.models import DecisionKind

Kind = Literal["shortlisted", "selected", "waitlisted", "rejected"]
assert set(Kind.__args__) == set(DecisionKind)  # type: ignore[attr-defined]
Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
Rationale = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    proposal: Id = Field(description="A proposal the round judges")
    decision: Kind
    rationale: Rationale = Field(description="Why: shown to the staff, never to the startup")


class ShortlistIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    top: Annotated[int, Field(ge=1, le=10_000, description="How many of the ranking's first entries")]
    rationale: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] = ""
