"""Tables of the datasets domain."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class Access(StrEnum):
    public = "public"  # anyone
    registered = "registered"  # anyone signed in
    applicants = "applicants"  # startups that accepted the challenge's terms (arrives with proposals)
    selected = "selected"  # selected startups only (arrives with selection)


def _ts(nullable: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable)


class Dataset(SQLModel, table=True):
    __table_args__ = (CheckConstraint("access IN ('public', 'registered', 'applicants', 'selected')", name="access"),)

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int | None = Field(default=None, foreign_key="challenge.id", index=True, ondelete="CASCADE")
    owner_id: int = Field(foreign_key="organisation.id", index=True)
    title: str = Field(max_length=160)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    licence: str = Field(max_length=80)
    access: str = Field(default=Access.public, max_length=16)
    synthetic: bool = Field(default=False)
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class DatasetFile(SQLModel, table=True):
    """One version of one file of a dataset; uploading a file with the same name makes the next version."""

    __tablename__ = "dataset_file"
    __table_args__ = (UniqueConstraint("dataset_id", "name", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    version: int = Field(default=1)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(max_length=64)
    media_type: str = Field(max_length=100)
    storage_key: str = Field(max_length=200, unique=True)
    row_count: int | None = Field(default=None)
    schema_fields: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    report: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    preview: list[list[Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    uploaded_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    removed_at: datetime | None = Field(
        default=None, sa_column=_ts(nullable=True), description="Removed from the list; kept for its downloaders"
    )
    removed_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")


class DatasetDownload(SQLModel, table=True):
    """Who downloaded a file (version), first time only: a removed file someone has is kept for them. One
    row with no user stands for every visitor who was not signed in."""

    __tablename__ = "dataset_download"
    __table_args__ = (UniqueConstraint("file_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    file_id: int = Field(foreign_key="dataset_file.id", index=True, ondelete="CASCADE")
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="CASCADE")
    downloaded_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class DatasetField(SQLModel, table=True):
    """The data dictionary: a sponsor's description and unit for a field of the dataset's files."""

    __tablename__ = "dataset_field"
    __table_args__ = (UniqueConstraint("dataset_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=1000)
    unit: str = Field(default="", max_length=40)
