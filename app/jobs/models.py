"""The job table of the SQLite queue (on PostgreSQL procrastinate's own tables hold the queue and this one
stays empty)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow

TODO, DOING, SUCCEEDED, FAILED = "todo", "doing", "succeeded", "failed"
FINISHED = (SUCCEEDED, FAILED)


class Job(SQLModel, table=True):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_status_run_at", "status", "run_at"),)

    id: int | None = Field(default=None, primary_key=True)
    task: str = Field(max_length=100)
    arguments: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=TODO, max_length=10)
    attempts: int = 0
    run_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # a job being done is claimed until then; past it, a worker that died is presumed, and another takes it
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # a periodic job's task and scheduled time: two workers never queue the same run twice
    periodic_key: str | None = Field(default=None, max_length=140, unique=True)
