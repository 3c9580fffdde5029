"""Tables of the startups domain: what a startup tells about itself."""

from datetime import datetime

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class StartupProfile(SQLModel, table=True):
    """What a startup tells about itself (name, country, city and website live on the organisation)."""

    __tablename__ = "startup_profile"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", unique=True, ondelete="CASCADE")
    legal_form: str = Field(default="", max_length=80)
    founding_year: int | None = Field(default=None)
    team_size: int | None = Field(default=None)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    sectors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    registration_number: str = Field(default="", max_length=80)
    logo_key: str | None = Field(default=None, max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
