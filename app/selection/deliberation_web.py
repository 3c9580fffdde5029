"""HTML pages of the jury's deliberation: an entry's discussion thread (read, write, tell people) and, on the same
page, the staff's notes. Who reads what is app/selection/deliberation.py's: everyone else gets 404."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session
from starlette.responses import Response

from app.db import SessionDep, discard_attempt
from app.errors import Conflict, Invalid
from app.security.actor import Actor
from app.selection import deliberation
from app.selection.deliberation import Discussion
from app.validation import RecordId
from app.web.deps import FormDep, SignedInDep
from app.web.flash import flash
from app.web.templating import redirect, render

router = APIRouter()

PAGE = "/rounds/{round_id}/entries/{entry_id}/discussion"


def _page(
    request: Request,
    found: Discussion,
    *,
    status_code: int = 200,
    form: dict[str, Any] | None = None,
    note_form: dict[str, Any] | None = None,
    **extra: Any,
) -> Response:
    chosen = (form or {}).get("mentions") or []
    context: dict[str, Any] = {
        "d": found,
        "v": found.view,
        "form": form or {},
        "chosen": [chosen] if isinstance(chosen, str) else list(chosen),
        "note_form": note_form or {},
        "errors": {},
        "error_vars": {},
        "note_errors": {},
        "max_body": deliberation.MAX_BODY,
        **extra,
    }
    return render(request, "selection/discussion.html", context, status_code=status_code)


def _discussion(session: Session, actor: Actor, round_id: int, entry_id: int) -> Discussion:
    return deliberation.get_discussion(session, actor, round_id, entry_id)


@router.get(PAGE, response_class=HTMLResponse)
def discussion_page(
    request: Request, session: SessionDep, actor: SignedInDep, round_id: RecordId, entry_id: RecordId
) -> Response:
    return _page(request, _discussion(session, actor, round_id, entry_id))


@router.post(PAGE, response_class=HTMLResponse)
def discussion_post(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId, entry_id: RecordId
) -> Response:
    """A new message; the people it names are told by email. Refused (422, what was typed kept) when it names
    someone who may not read the thread; 409 once the round is decided."""
    found = _discussion(session, actor, round_id, entry_id)
    keys = form.get("mentions") or []
    try:
        message = deliberation.post_message(
            session, actor, found, str(form.get("body") or ""), [keys] if isinstance(keys, str) else list(keys)
        )
    except (Invalid, Conflict) as exc:
        discard_attempt(session)
        invalid = isinstance(exc, Invalid)
        return _page(
            request,
            _discussion(session, actor, round_id, entry_id),
            status_code=exc.status,
            form=form,
            errors=exc.errors if isinstance(exc, Invalid) else {},
            error_vars=exc.field_variables if isinstance(exc, Invalid) else {},
            form_error=None if invalid else exc.detail,
        )
    told = len(message.mentions)
    flash(request, "Your message is posted." if not told else "Your message is posted and the people named are told.")
    return redirect(request, f"{found.path}#message-{message.id}")


@router.post(PAGE.replace("discussion", "notes"), response_class=HTMLResponse)
def note_post(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId, entry_id: RecordId
) -> Response:
    """A staff note (the staff only: 404 to anyone else)."""
    found = _discussion(session, actor, round_id, entry_id)
    try:
        note = deliberation.add_note(session, actor, found, str(form.get("note") or ""))
    except Invalid as exc:
        discard_attempt(session)
        return _page(
            request,
            _discussion(session, actor, round_id, entry_id),
            status_code=422,
            note_form=form,
            note_errors=exc.errors,
            note_error_vars=exc.field_variables,
        )
    flash(request, "Your note is saved.")
    return redirect(request, f"{found.path}#note-{note.id}")
