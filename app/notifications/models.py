"""The email outbox: every message the platform sends, with its delivery state."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))
    to_address: str = Field(max_length=254, index=True)
    subject: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    # small files sent with the message (an .ics invitation): each {"filename", "media_type", "content"},
    # the content in base64 and the media type with its parameters ("text/calendar; method=REQUEST")
    attachments: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default=text("'[]'"))
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    error: str | None = Field(default=None, max_length=500)
