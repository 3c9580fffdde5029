"""Input and output shapes of startup profiles (shared by the form and the API)."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints

from app.countries import CountryCode


class ProfileUpdate(BaseModel):
    """The whole profile: the form sends every field; PATCH sends the fields it changes."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Annotated[str, StringConstraints(min_length=2, max_length=160)] | None = None
    legal_form: Annotated[str, StringConstraints(max_length=80)] = ""
    country: CountryCode | Literal[""] = ""
    city: Annotated[str, StringConstraints(max_length=120)] = ""
    founding_year: Annotated[int, Field(ge=1900, le=2100)] | None = None
    team_size: Annotated[int, Field(ge=1, le=100_000)] | None = None
    website: HttpUrl | Literal[""] = ""
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    sectors: list[Annotated[str, StringConstraints(min_length=1, max_length=60)]] = Field(
        default_factory=list, max_length=20
    )
    registration_number: Annotated[str, StringConstraints(max_length=80)] = ""


class ProfilePublic(BaseModel):
    organisation: int
    url: str
    name: str
    slug: str
    legal_form: str
    country: str
    city: str
    founding_year: int | None
    team_size: int | None
    website: str
    description: str
    sectors: list[str]
    registration_number: str
    logo_url: str | None
    updated_at: datetime
