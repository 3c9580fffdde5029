"""HTML pages of audition pitch slots: the staff's schedule of a round (create slots, give them to entries,
open booking) and a startup's audition page, where it books its pitch (app/jury/slots.py)."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session
from starlette.responses import Response

from app.db import SessionDep, discard_attempt
from app.errors import Conflict, DomainError, Invalid, NotFound
from app.jury import slots
from app.jury.models import PitchSlot
from app.jury.records import RoundView, get_managed_round
from app.jury.slots import SlotsIn
from app.security.actor import Actor
from app.validation import RecordId, parse, whole_number
from app.web.confirm import require_confirmation
from app.web.deps import FormDep, SignedInDep
from app.web.flash import flash
from app.web.templating import redirect, render

router = APIRouter()

# the form's fields the schema's errors belong to
FORM_FIELDS = {"starts_at": "start", "until": "until", "duration_minutes": "duration", "every_minutes": "every"}


def _schedule_path(round_id: int) -> str:
    return f"/rounds/{round_id}/slots"


def _pitch_path(proposal_id: int) -> str:
    return f"/proposals/{proposal_id}/pitch"


def _schedule_page(
    request: Request, session: Session, view: RoundView, *, status_code: int = 200, **extra: Any
) -> Response:
    context = {
        "view": view,
        "r": view.round,
        "challenge": view.challenge,
        "has_slots": slots.has_slots(view.round),
        "changeable": slots.slots_change(view.round, view.now),
        "slots": slots.staff_slots(session, view),
        "entries": slots.schedulable_entries(session, view),
        "form": {"duration": "20"},
        "errors": {},
        "error_vars": {},
        **extra,
    }
    return render(request, "jury/slots.html", context, status_code=status_code)


def _local(date: str, time: str, field: str) -> datetime:
    try:
        return datetime.fromisoformat(f"{date.strip()}T{time.strip()}")
    except ValueError:
        raise Invalid({field: "Enter a valid date and time."}) from None


def _slots_data(form: dict[str, Any]) -> SlotsIn:
    """The creation form as the service takes it: a day, a start, and for a series an end and a step (the
    duration when no step is given)."""
    date = str(form.get("date", ""))
    data: dict[str, Any] = {
        "starts_at": _local(date, str(form.get("start", "")), "start"),
        "duration_minutes": whole_number(form.get("duration"), max_digits=3) or 0,
        "place": form.get("place", ""),
        "video_url": form.get("video_url", ""),
    }
    if str(form.get("until", "")).strip():
        data["until"] = _local(date, str(form.get("until", "")), "until")
        data["every_minutes"] = whole_number(form.get("every"), max_digits=3) or data["duration_minutes"]
    try:
        return parse(SlotsIn, data)
    except Invalid as exc:
        raise _on_form(exc) from None


def _on_form(exc: Invalid) -> Invalid:
    moved = {FORM_FIELDS.get(name, name): message for name, message in exc.errors.items()}
    variables = {FORM_FIELDS.get(name, name): v for name, v in exc.field_variables.items()}
    return Invalid(moved, exc.detail, field_variables=variables, **exc.variables)


@router.get("/rounds/{round_id}/slots", response_class=HTMLResponse)
def schedule(request: Request, session: SessionDep, actor: SignedInDep, round_id: RecordId) -> Response:
    return _schedule_page(request, session, get_managed_round(session, actor, round_id))


@router.post("/rounds/{round_id}/slots", response_class=HTMLResponse)
def slots_create(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId
) -> Response:
    view = get_managed_round(session, actor, round_id)
    try:
        created = slots.create_slots(session, actor, view, _slots_data(form))
    except Invalid as exc:
        discard_attempt(session)
        return _schedule_page(
            request, session, view, status_code=exc.status, form=form, errors=exc.errors, error_vars=exc.field_variables
        )
    except Conflict as exc:
        return _refused_on_schedule(request, session, view, exc)
    flash(request, "Pitch slots created: %(count)s.", count=len(created))
    return redirect(request, _schedule_path(round_id))


@router.post("/rounds/{round_id}/slots/booking")
def booking_set(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId
) -> Response:
    view = get_managed_round(session, actor, round_id)
    open_ = form.get("booking") == "open"
    slots.set_booking(session, actor, view, open_)
    flash(request, "The startups may now book their pitch slot." if open_ else "Booking is closed.")
    return redirect(request, _schedule_path(round_id))


def _managed_slot_round(session: Session, actor: Actor, slot_id: int) -> RoundView:
    slot = session.get(PitchSlot, slot_id)
    if slot is None:
        raise NotFound()
    return get_managed_round(session, actor, slot.round_id)


def _refused_on_schedule(request: Request, session: Session, view: RoundView, exc: DomainError) -> Response:
    """The schedule again with the refusal said at the top (nothing was changed)."""
    discard_attempt(session)
    return _schedule_page(
        request, session, view, status_code=exc.status, refusal=exc.detail, refusal_vars=exc.variables
    )


@router.post("/slots/{slot_id}/entry", response_class=HTMLResponse)
def slot_assign(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, slot_id: RecordId
) -> Response:
    view = _managed_slot_round(session, actor, slot_id)
    entry_id = whole_number(form.get("entry")) if str(form.get("entry", "")).strip() else None
    try:
        slots.assign_slot(session, actor, slot_id, entry_id)
    except (Invalid, Conflict) as exc:
        return _refused_on_schedule(request, session, view, exc)
    flash(
        request, "The pitch slot is given; the startup and the jurors are emailed." if entry_id else "The slot is free."
    )
    return redirect(request, _schedule_path(view.id) + f"#slot-{slot_id}")


@router.post("/slots/{slot_id}/remove", response_class=HTMLResponse)
def slot_remove(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, slot_id: RecordId
) -> Response:
    view = _managed_slot_round(session, actor, slot_id)
    require_confirmation(form)
    try:
        slots.remove_slot(session, actor, slot_id)
    except Conflict as exc:
        return _refused_on_schedule(request, session, view, exc)
    flash(request, "The slot is removed.", "info")
    return redirect(request, _schedule_path(view.id))


# ---- the startup's audition page ----------------------------------------------------------------------------


def _pitch_page(
    request: Request, session: Session, actor: Actor, proposal_id: int, *, status_code: int = 200, **extra: Any
) -> Response:
    context = {"proposal_id": proposal_id, "auditions": slots.auditions(session, actor, proposal_id), **extra}
    return render(request, "jury/slots_pitch.html", context, status_code=status_code)


@router.get("/proposals/{proposal_id}/pitch", response_class=HTMLResponse)
def pitch(request: Request, session: SessionDep, actor: SignedInDep, proposal_id: RecordId) -> Response:
    return _pitch_page(request, session, actor, proposal_id)


@router.post("/proposals/{proposal_id}/pitch", response_class=HTMLResponse)
def pitch_book(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, proposal_id: RecordId
) -> Response:
    slots.auditions(session, actor, proposal_id)  # 404 to anyone but the startup's members, before the form
    slot_id = whole_number(form.get("slot"))
    try:
        if slot_id is None:
            raise Invalid({"slot": "Choose a time for your pitch."})
        slots.book_slot(session, actor, slot_id, proposal_id)
    except NotFound:
        discard_attempt(session)
        return _pitch_page(
            request, session, actor, proposal_id, status_code=422, errors={"slot": "Choose one of the options."}
        )
    except (Invalid, Conflict) as exc:
        discard_attempt(session)
        errors = exc.errors if isinstance(exc, Invalid) else {}
        return _pitch_page(
            request, session, actor, proposal_id, status_code=exc.status, errors=errors, refusal=exc.detail,
            refusal_vars=exc.variables,
        )  # fmt: skip
    flash(request, "Your pitch is booked. The invitation is in your email.")
    return redirect(request, _pitch_path(proposal_id))
