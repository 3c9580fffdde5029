"""The staff's decisions page of a round (`/rounds/{id}/decisions`): the entries in rank order with their score
and decisions, a proposal form per entry, confirmation and withdrawal, "shortlist the top N", the sponsor
warnings and the publication. Everyone but the round's staff gets 404; the services decide everything
(decisions.py, publication.py)."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session
from starlette.responses import Response

from app.db import SessionDep, discard_attempt
from app.errors import Conflict, Forbidden, Invalid
from app.i18n import N_
from app.security.actor import Actor
from app.selection import decisions, publication
from app.selection.models import DECISION_LABELS, DECISION_STATUS_LABELS, DecisionKind
from app.selection.schemas import DecisionIn, ShortlistIn
from app.templating import environment
from app.validation import RecordId, parse
from app.web.confirm import NotConfirmed, require_confirmation
from app.web.deps import FormDep, SignedInDep
from app.web.flash import flash
from app.web.templating import redirect, render

router = APIRouter()

environment.globals["DECISION_LABELS"] = DECISION_LABELS
environment.globals["DECISION_STATUS_LABELS"] = DECISION_STATUS_LABELS

SHORTLIST_DEFAULT = 10
PROPOSED = N_("The decision is proposed: another member of the staff confirms it to put it in force.")
SHORTLISTED = N_("Proposed for the shortlist: %(count)s proposal(s). Another member of the staff confirms each.")
NONE_TO_SHORTLIST = N_("Each of the first %(top)s proposals of the ranking already has a decision.")


def decisions_path(round_id: int) -> str:
    return f"/rounds/{round_id}/decisions"


def _page(
    request: Request, session: Session, actor: Actor, round_id: int, *, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    board = decisions.board(session, actor, round_id)
    view = board.view
    context = {
        "board": board,
        "view": view,
        "r": view.round,
        "challenge": view.challenge,
        "c": view.challenge.challenge,
        "tz": view.timezone,
        "kinds": [(k.value, DECISION_LABELS[k]) for k in DecisionKind],
        "shortlist_default": SHORTLIST_DEFAULT,
        "failed": None,
        "form": {},
        "errors": {},
        "error_vars": {},
        "form_error": None,
        "form_error_vars": {},
        **extra,
    }
    return render(request, "selection/decisions.html", context, status_code=status_code)


@router.get("/rounds/{round_id}/decisions", response_class=HTMLResponse)
def decisions_page(request: Request, session: SessionDep, actor: SignedInDep, round_id: RecordId) -> Response:
    return _page(request, session, actor, round_id)


def _act(
    request: Request,
    session: Session,
    actor: Actor,
    round_id: int,
    form: dict[str, Any],
    failed: str,
    action: Callable[[], str],
    anchor: str,
) -> Response:
    """Run one of the page's forms: its flash message and back to its place; a refusal shows the page again with
    the message at that form and the input kept (422 for the input, 403 or 409 for the state)."""
    try:
        message = action()
    except (Invalid, Conflict, Forbidden, NotConfirmed) as exc:
        discard_attempt(session)
        return _page(
            request,
            session,
            actor,
            round_id,
            status_code=exc.status,
            failed=failed,
            form=form,
            errors=exc.errors if isinstance(exc, Invalid) else {},
            error_vars=exc.field_variables if isinstance(exc, Invalid) else {},
            form_error=exc.detail,
            form_error_vars=exc.variables,
        )
    if message:
        flash(request, message)
    return redirect(request, f"{decisions_path(round_id)}#{anchor}")


@router.post("/rounds/{round_id}/decisions", response_class=HTMLResponse)
def decision_propose(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId
) -> Response:
    proposal = str(form.get("proposal", ""))

    def act() -> str:
        data = parse(
            DecisionIn,
            {"proposal": proposal, "rationale": form.get("rationale", "")}
            | ({"decision": form["decision"]} if form.get("decision") else {}),
        )
        decisions.propose(session, actor, round_id, data)
        return PROPOSED

    return _act(request, session, actor, round_id, form, f"propose-{proposal}", act, f"proposal-{proposal}")


@router.post("/rounds/{round_id}/decisions/shortlist", response_class=HTMLResponse)
def decision_shortlist(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId
) -> Response:
    def act() -> str:
        data = parse(ShortlistIn, {"top": form.get("top", ""), "rationale": form.get("rationale", "")})
        made = decisions.shortlist_top(session, actor, round_id, data)
        if made:
            flash(request, SHORTLISTED, count=len(made))
        else:
            flash(request, NONE_TO_SHORTLIST, "warning", top=data.top)
        return ""

    return _act(request, session, actor, round_id, form, "shortlist", act, "shortlist")


@router.post("/decisions/{decision_id}/confirm", response_class=HTMLResponse)
def decision_confirm(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, decision_id: RecordId
) -> Response:
    shown = decisions.get_decision(session, actor, decision_id)

    def act() -> str:
        decisions.confirm(session, actor, decision_id)
        return "The decision is confirmed: it is in force and the proposal's status follows it."

    anchor = f"proposal-{shown.proposal.id}"
    return _act(request, session, actor, shown.round.id, form, f"decision-{decision_id}", act, anchor)


@router.post("/decisions/{decision_id}/withdraw", response_class=HTMLResponse)
def decision_withdraw(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, decision_id: RecordId
) -> Response:
    shown = decisions.get_decision(session, actor, decision_id)

    def act() -> str:
        decisions.withdraw(session, actor, decision_id)
        return "The proposed decision is withdrawn."

    anchor = f"proposal-{shown.proposal.id}"
    return _act(request, session, actor, shown.round.id, form, f"decision-{decision_id}", act, anchor)


@router.post("/rounds/{round_id}/publish", response_class=HTMLResponse)
def round_publish(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId
) -> Response:
    def act() -> str:
        require_confirmation(form)
        publication.publish(session, actor, round_id)
        return "The outcomes are published: each startup is emailed its outcome with the jury's comments."

    return _act(request, session, actor, round_id, form, "publish", act, "publish")
