"""/api/v1 endpoints of the jury's deliberation: an entry's messages, read and written, and the people a message
may name, on the same service as the pages (app/selection/deliberation.py: a thread the caller may not read is
a 404). The staff's notes have no API: no juror or startup ever reads them, nor anything derived from them."""

from datetime import datetime

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import ApiActor, WriteActor, api_url
from app.api.pagination import Cursor, Limit, Page, paginate
from app.db import SessionDep
from app.selection import deliberation
from app.selection.deliberation import Discussion
from app.selection.models import DeliberationMessage
from app.validation import RecordId

router = APIRouter()

MESSAGES = "/rounds/{round_id}/entries/{entry_id}/messages"


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(description="Markdown; required, at most 10,000 characters (422 on `body` otherwise)")
    mentions: list[str] = Field(
        default_factory=list,
        max_length=500,
        description="The `key`s of the participants to tell (GET …/participants); `@` and an address in the body "
        "tells that participant too",
    )


class MessagePublic(BaseModel):
    id: int
    url: str = Field(description="The thread's messages, where this one is")
    author: str = Field(description="As the caller may know them: in a blind round a juror reads other jurors as "
                        "“Juror N”")  # fmt: skip
    own: bool
    body: str = Field(description="Markdown as written (for a juror of a blind round, the startup's names hidden)")
    created_at: datetime
    updated_at: datetime


class ParticipantPublic(BaseModel):
    key: str = Field(description="Names them in a message's `mentions`")
    name: str = Field(description="As the caller may know them")
    juror: bool


def _public(request: Request, found: Discussion, m: DeliberationMessage, author: str, own: bool) -> MessagePublic:
    return MessagePublic(
        id=m.id or 0,
        url=api_url(request, MESSAGES.format(round_id=found.round_id, entry_id=found.entry_id)),
        author=author,
        own=own,
        body=m.body if own else found.shown_text(m.body),
        created_at=m.created_at,
        updated_at=m.created_at,
    )


@router.get(MESSAGES, response_model=Page[MessagePublic], summary="The jury's discussion of one entry, oldest first")
def message_list(
    request: Request,
    session: SessionDep,
    actor: ApiActor,
    round_id: RecordId,
    entry_id: RecordId,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[MessagePublic]:
    found = deliberation.get_discussion(session, actor, round_id, entry_id)
    shown = [_public(request, found, m.message, m.author, m.own) for m in found.messages]
    return paginate(request, shown, limit=limit, cursor=cursor)


@router.post(
    MESSAGES,
    response_model=MessagePublic,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The round is decided, or the entry left out of it"}},
    summary="Write in the discussion; each participant named is told by email",
)
def message_post(
    request: Request, session: SessionDep, actor: WriteActor, round_id: RecordId, entry_id: RecordId, data: MessageIn
) -> MessagePublic:
    found = deliberation.get_discussion(session, actor, round_id, entry_id)
    message = deliberation.post_message(session, actor, found, data.body, data.mentions)
    return _public(request, found, message, found.label(message.author_id, message.author_name), True)


@router.get(
    "/rounds/{round_id}/entries/{entry_id}/participants",
    response_model=list[ParticipantPublic],
    summary="Who may read the discussion now (the caller left out): whom a message may name",
)
def participant_list(
    session: SessionDep, actor: ApiActor, round_id: RecordId, entry_id: RecordId
) -> list[ParticipantPublic]:
    found = deliberation.get_discussion(session, actor, round_id, entry_id)
    return [ParticipantPublic(key=p.key, name=p.label, juror=p.juror_id is not None) for p in found.participants]
