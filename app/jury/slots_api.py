"""/api/v1 endpoints of audition pitch slots: the round's slots, creating them, a startup's booking and the
staff's assignment, on the same service as the pages (app/jury/slots.py).

A round whose slots the caller may not see is a 404; a change only the staff (or only the entry's startup)
make, asked by someone who sees the slots, is a 403 (API.md: a forbidden action on a record the caller may
see).
"""

from datetime import datetime

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field
from sqlmodel import Session

from app.api.deps import ApiActor, WriteActor, api_url
from app.api.pagination import Cursor, Limit, Page, paginate
from app.db import SessionDep
from app.errors import Forbidden, NotFound
from app.jury import records, slots
from app.jury.models import PitchSlot
from app.jury.slots import BookingIn, SlotEntryIn, SlotsIn, SlotView
from app.security.actor import Actor
from app.validation import RecordId

router = APIRouter()

STAFF_ONLY = "Only the challenge's sponsors and the programme operator manage the pitch slots."
STARTUP_ONLY = "Only the startup of an entry of the round books its pitch slot."


class SlotPublic(BaseModel):
    id: int
    url: str
    round: int
    starts_at: datetime = Field(description="In the programme's time zone")
    ends_at: datetime = Field(description="In the programme's time zone")
    timezone: str
    duration_minutes: int
    place: str
    video_url: str
    taken: bool
    entry: int | None = Field(description="Whose pitch it is, for those who may know (else null, even if taken)")
    proposal: int | None = Field(description="The entry's proposal, for those who may know")
    sequence: int = Field(description="The invitation's iCalendar SEQUENCE: bumped by each change of the booking")


class SlotList(BaseModel):
    items: list[SlotPublic]


def public(request: Request, view: SlotView) -> SlotPublic:
    slot = view.slot
    return SlotPublic(
        id=view.id,
        url=api_url(request, f"/slots/{view.id}"),
        round=slot.round_id,
        starts_at=view.starts_at,
        ends_at=view.ends_at,
        timezone=view.timezone,
        duration_minutes=slot.duration_minutes,
        place=slot.place,
        video_url=slot.video_url,
        taken=view.taken,
        entry=view.entry.id if view.entry else None,
        proposal=view.entry.proposal_id if view.entry else None,
        sequence=slot.sequence,
    )


def _refused(session: Session, actor: Actor, round_id: int, message: str) -> Exception:
    """The refusal of a change: 403 to someone who sees the round's slots, 404 to anyone else."""
    return Forbidden(message) if slots.may_read(session, actor, round_id) else NotFound()


def _slot_round(session: Session, slot_id: int) -> int:
    found = session.get(PitchSlot, slot_id)
    if found is None:
        raise NotFound()
    return found.round_id


@router.get(
    "/rounds/{round_id}/slots",
    response_model=Page[SlotPublic],
    summary="An audition round's pitch slots in time order: whose each is, to those who may know",
)
def slot_list(
    request: Request, session: SessionDep, actor: ApiActor, round_id: RecordId, limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[SlotPublic]:  # fmt: skip
    views = slots.readable_slots(session, actor, round_id)
    return paginate(request, [public(request, v) for v in views], limit=limit, cursor=cursor)


@router.post(
    "/rounds/{round_id}/slots",
    response_model=SlotList,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "Not an audition round, or the round is closed"}},
    summary="Create a slot, or a series (`every_minutes` until `until`); times without an offset are local",
)
def slot_create(
    request: Request, session: SessionDep, actor: WriteActor, round_id: RecordId, data: SlotsIn
) -> SlotList:
    try:
        view = records.get_managed_round(session, actor, round_id)
    except NotFound:
        raise _refused(session, actor, round_id, STAFF_ONLY) from None
    created = {s.id for s in slots.create_slots(session, actor, view, data)}
    shown = [public(request, v) for v in slots.staff_slots(session, view) if v.id in created]
    return SlotList(items=shown)


@router.post(
    "/slots/{slot_id}/book",
    response_model=SlotPublic,
    responses={409: {"description": "The slot is taken or past, booking is not open, or the round has opened"}},
    summary="Book a free slot for your startup's entry (it replaces the entry's earlier booking)",
)
def slot_book(
    request: Request, session: SessionDep, actor: WriteActor, slot_id: RecordId, data: BookingIn | None = None
) -> SlotPublic:
    round_id = _slot_round(session, slot_id)
    try:
        view = slots.book_slot(session, actor, slot_id, data.proposal if data else None)
    except NotFound:
        raise _refused(session, actor, round_id, STARTUP_ONLY) from None
    return public(request, view)


@router.put(
    "/slots/{slot_id}/entry",
    response_model=SlotPublic,
    responses={409: {"description": "The slot is taken by another entry, or the round is closed"}},
    summary="Give the slot to an entry of its round (`entry`), or free it (`entry: null`)",
)
def slot_assign(
    request: Request, session: SessionDep, actor: WriteActor, slot_id: RecordId, data: SlotEntryIn
) -> SlotPublic:
    round_id = _slot_round(session, slot_id)
    try:
        slots.assign_slot(session, actor, slot_id, data.entry)
    except NotFound:
        raise _refused(session, actor, round_id, STAFF_ONLY) from None
    return public(request, slots.get_slot(session, actor, slot_id))


@router.delete(
    "/slots/{slot_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "The slot is taken: free it first"}},
    summary="Remove a free slot",
)
def slot_delete(session: SessionDep, actor: WriteActor, slot_id: RecordId) -> Response:
    round_id = _slot_round(session, slot_id)
    try:
        slots.remove_slot(session, actor, slot_id)
    except NotFound:
        raise _refused(session, actor, round_id, STAFF_ONLY) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)
