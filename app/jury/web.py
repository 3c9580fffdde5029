"""HTML pages of the jurors: the rounds I sit on, my queue with my themes, bids and conflicts, the scoring page
(the proposal as submitted beside the scorecard, autosaved drafts, submit and next), attachments shown in the
page, and the invitation an outside expert accepts.

Every page here is the juror's own: the staff run their rounds from their own pages, so an assignment or a
queue is a 404 to anyone but the juror who sits on it (and to them across a conflict of interest)."""

import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select
from starlette.responses import Response

from app.accounts.models import Organisation
from app.accounts.schemas import InvitationAcceptance
from app.accounts.web import sign_in_response
from app.challenges.models import THEMES, Challenge
from app.db import SessionDep, discard_attempt
from app.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, PreconditionFailed
from app.jury import assignments, jurors, records, reviews, slots
from app.jury import permissions as can
from app.jury.models import (
    ASSIGNMENT_STATUS_LABELS,
    BID_LABELS,
    ROUND_KIND_LABELS,
    ROUND_STATUS_LABELS,
    AssignmentStatus,
    JuryCriterion,
    JuryRound,
)
from app.jury.records import AssignmentView, RoundView
from app.jury.schemas import BidIn, ConflictIn, ReviewIn, ThemesIn
from app.proposals import attachments
from app.security.actor import Actor
from app.templating import environment
from app.validation import RecordId, parse, whole_number
from app.web import files as web_files
from app.web.deps import ActorDep, FormDep, SignedInDep
from app.web.flash import flash
from app.web.forms import form_error
from app.web.templating import redirect, render

router = APIRouter()

TO_DO = (AssignmentStatus.pending, AssignmentStatus.draft)
DONE = (AssignmentStatus.submitted, AssignmentStatus.abstained)
# what a score field takes: digits with an optional decimal part (a comma, as French and Arabic write it)
SCORE = re.compile(r"-?\d{1,4}(?:[.,]\d{1,2})?")
# the file types a browser shows in the page itself; anything else is downloaded
SHOWN_INLINE = frozenset({"application/pdf", "image/png", "image/jpeg"})
# the attachment's answer may be framed by the scoring page, and only there: it runs nothing of its own
INLINE_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
RADIO_LIMIT = 21  # more steps than this on a scale and the score is typed in a number field instead

environment.globals["assignment_status_label"] = lambda status: ASSIGNMENT_STATUS_LABELS.get(status, status)
environment.globals["round_status_label"] = lambda status: ROUND_STATUS_LABELS.get(status, status)
environment.globals["round_kind_label"] = lambda kind: ROUND_KIND_LABELS.get(kind, kind)
environment.globals["BID_LABELS"] = BID_LABELS


def sits_on_a_jury(request: Request) -> bool:
    """Whether the signed-in user sits on a round (not a draft): the navigation's "Jury" link. One indexed query,
    on the request's own session while its transaction is under way (never on an error page's closed one)."""
    actor: Actor | None = getattr(request.state, "actor", None)
    session: Session | None = getattr(request.state, "db_session", None)
    if actor is None or not actor.is_authenticated or session is None or not session.in_transaction():
        return False
    return session.exec(select(JuryRound.id).where(can.juror_rounds(actor)).limit(1)).first() is not None


environment.globals["sits_on_a_jury"] = sits_on_a_jury


def round_path(round_id: int) -> str:
    return f"/jury/rounds/{round_id}"


def assignment_path(assignment_id: int) -> str:
    return f"/jury/assignments/{assignment_id}"


# ---- the rounds I sit on ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    """A juror's assignments in one round, in order, with what is done and what is left."""

    round: RoundView
    items: list[AssignmentView]

    @property
    def done(self) -> int:
        return sum(1 for a in self.items if a.status in DONE)

    @property
    def to_do(self) -> int:
        return len(self.items) - self.done

    def next_after(self, assignment_id: int | None) -> AssignmentView | None:
        """The next assignment still to do after this one, going round to the first ones."""
        ids = [a.id for a in self.items]
        start = ids.index(assignment_id) + 1 if assignment_id in ids else 0
        ordered = self.items[start:] + self.items[:start]
        return next((a for a in ordered if a.status in TO_DO and a.id != assignment_id), None)


def _queue(session: Session, actor: Actor, view: RoundView) -> Queue:
    """The actor's own assignments (the staff's list of the round holds everyone's: a juror of the staff sees
    their own queue here)."""
    return Queue(view, [a for a in assignments.list_assignments(session, actor, view) if a.is_own])


def _seated_round(session: Session, actor: Actor, round_id: int) -> RoundView:
    """A round the actor sits on: its queue is theirs only."""
    view = records.get_round(session, actor, round_id)
    if not view.is_juror:
        raise NotFound()
    return view


@router.get("/jury", response_class=HTMLResponse)
def jury_home(request: Request, session: SessionDep, actor: SignedInDep) -> Response:
    queues = [_queue(session, actor, view) for view in records.seated_rounds(session, actor)]
    return render(request, "jury/home.html", {"queues": queues})


def _round_page(
    request: Request, session: Session, actor: Actor, view: RoundView, *, status_code: int = 200, **extra: Any
) -> Response:
    queue = _queue(session, actor, view)
    seat = view.seat
    assert seat is not None
    conflicts = jurors.list_conflicts(session, actor, view)
    context: dict[str, Any] = {
        "view": view,
        "queue": queue,
        "bids": jurors.bids_of(session, seat),
        "conflicts": conflicts,
        "startups": [] if view.blind_for_reader else _declarable_startups(session, view, conflicts),
        "themes": THEMES,
        "my_themes": set(seat.themes),
        "now": view.now,
        **extra,
    }
    return render(request, "jury/round.html", context, status_code=status_code)


def _declarable_startups(
    session: Session, view: RoundView, conflicts: list[jurors.ShownConflict]
) -> list[Organisation]:
    """The round's startups a juror may declare a conflict with (those not already one), in a round that is
    not blind: there the juror knows who applied."""
    known = {c.startup.id for c in conflicts}
    ids = jurors.round_startups(session, view.id) - known
    return list(
        session.exec(select(Organisation).where(col(Organisation.id).in_(ids or {-1})).order_by(Organisation.name))
    )


@router.get("/jury/rounds/{round_id}", response_class=HTMLResponse)
def round_page(request: Request, session: SessionDep, actor: SignedInDep, round_id: RecordId) -> Response:
    return _round_page(request, session, actor, _seated_round(session, actor, round_id))


@router.post("/jury/rounds/{round_id}/themes", response_class=HTMLResponse)
def themes_update(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId
) -> Response:
    view = _seated_round(session, actor, round_id)
    chosen = form.get("themes", [])
    try:
        data = parse(ThemesIn, {"themes": [chosen] if isinstance(chosen, str) else chosen})
    except Invalid as exc:
        discard_attempt(session)
        return _round_page(request, session, actor, view, status_code=422, errors=exc.errors, form=form)
    jurors.set_themes(session, actor, view, list(data.themes))
    flash(request, "Your themes of expertise are saved.")
    return redirect(request, round_path(round_id) + "#themes")


@router.post("/jury/rounds/{round_id}/conflicts", response_class=HTMLResponse)
def conflict_declare(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId
) -> Response:
    """A conflict with a startup of the round chosen by name (the service refuses it in a blind round, whose
    juror declares one from an assignment, never naming the startup)."""
    view = _seated_round(session, actor, round_id)
    try:
        data = parse(
            ConflictIn,
            {"startup": whole_number(form.get("startup")) or 0, "reason": form.get("reason", "")},
        )
        jurors.declare_conflict(session, actor, view, data)
    except Invalid as exc:
        discard_attempt(session)
        return _round_page(
            request, session, actor, view, status_code=422, errors=exc.errors, error_vars=exc.field_variables, form=form
        )
    flash(request, "The conflict of interest is recorded: you will not review this startup's proposal.")
    return redirect(request, round_path(round_id) + "#conflicts")


# ---- per assignment: bid, conflict -----------------------------------------------------------------------


def _own_assignment(session: Session, actor: Actor, assignment_id: int) -> AssignmentView:
    """The actor's own assignment (never across a conflict): the scoring page and its forms are the juror's."""
    view = records.get_assignment(session, actor, assignment_id)
    if not view.is_own:
        raise NotFound()
    return view


@router.post("/jury/assignments/{assignment_id}/bid")
def assignment_bid(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, assignment_id: RecordId
) -> Response:
    view = _own_assignment(session, actor, assignment_id)
    data = parse(BidIn, {"bid": form.get("bid") or None})
    jurors.set_bid(session, actor, view.round, view.entry.id or 0, data.bid)
    flash(request, "Your wish is saved.")
    return redirect(request, round_path(view.round.id) + f"#assignment-{assignment_id}")


@router.post("/jury/assignments/{assignment_id}/conflict", response_class=HTMLResponse)
def assignment_conflict(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, assignment_id: RecordId
) -> Response:
    """A conflict with the startup behind an assignment, which the juror need not know by name (a blind round):
    the service takes the startup from the assignment, never from the form."""
    view = _own_assignment(session, actor, assignment_id)
    try:
        data = parse(ConflictIn, {"assignment": assignment_id, "reason": form.get("reason", "")})
        jurors.declare_conflict(session, actor, view.round, data)
    except Invalid as exc:
        discard_attempt(session)
        return _scoring_page(
            request,
            session,
            actor,
            _own_assignment(session, actor, assignment_id),
            status_code=422,
            conflict_form=form,
            conflict_errors=exc.errors,
        )
    flash(request, "The conflict of interest is recorded: this proposal has left your queue.")
    return redirect(request, round_path(view.round.id))


# ---- the scoring page ------------------------------------------------------------------------------------


def scale_of(criterion: JuryCriterion) -> list[str]:
    """The scores a criterion takes, as the form writes them ("3", "3.5"), lowest first."""
    steps = round((criterion.max_score - criterion.min_score) / criterion.step)
    return [_written(criterion.min_score + n * criterion.step) for n in range(steps + 1)]


def _written(value: float) -> str:
    return f"{value:g}"


def _form_of(view: AssignmentView) -> dict[str, Any]:
    """The scorecard's fields as the saved review has them."""
    review = view.review
    form: dict[str, Any] = {"revision": str(review.revision) if review else ""}
    if review is None:
        return form
    form.update({f"scores.{k}": _written(float(v)) for k, v in review.scores.items() if v is not None})
    form.update({f"comments.{k}": v for k, v in review.criterion_comments.items()})
    form.update({"comment": review.comment, "note": review.note, "reason": review.abstain_reason})
    return form


def _score(raw: object) -> str | None:
    """A typed score as the schema reads it: None when empty; anything not a plain number is left for the
    schema to refuse ("Enter a number")."""
    text = str(raw or "").strip()
    if not text:
        return None
    return text.replace(",", ".") if SCORE.fullmatch(text) else "not a number"


def _review_data(view: AssignmentView, form: dict[str, Any], action: str) -> ReviewIn:
    criteria = [str(c.id) for c in view.round.criteria]
    comments = {k: str(form[f"comments.{k}"]) for k in criteria if f"comments.{k}" in form}
    return parse(
        ReviewIn,
        {
            "scores": {k: _score(form.get(f"scores.{k}")) for k in criteria},
            "comments": comments,
            "comment": form.get("comment", ""),
            "note": form.get("note", ""),
            "submit": action in ("submit", "next"),
            "abstain": action == "abstain",
            "reason": form.get("reason", ""),
        },
    )


def _attachments(view: AssignmentView) -> list[tuple[int, dict[str, Any], str]]:
    """The attachments of the proposal as the juror reads it: (number, entry, the name to show). The name is
    made from the file as submitted (its type), the shown entry kept as the reader may see it."""
    submitted = {item["id"]: item for item in view.proposal.content.get("attachments") or []}
    return [
        (number, item, view.attachment_name(submitted.get(item["id"], item), number))
        for number, item in enumerate(view.content.get("attachments") or [], start=1)
    ]


def _scoring_page(
    request: Request, session: Session, actor: Actor, view: AssignmentView, *, status_code: int = 200, **extra: Any
) -> Response:
    queue = _queue(session, actor, view.round)
    own_status = view.status
    others = [
        r
        for r in reviews.visible_reviews(session, actor, view.round, entry_id=view.entry.id)
        if r.review.assignment_id != view.id
    ]
    criteria = view.round.criteria
    total_weight = sum(c.weight for c in criteria) or 1
    content = view.content
    context: dict[str, Any] = {
        "a": view,
        "content": content,
        "attachments": _attachments(view),
        "criteria": criteria,
        "scales": {c.id: scale_of(c) for c in criteria},
        "radio_limit": RADIO_LIMIT,
        "shares": {c.id: round(100 * c.weight / total_weight) for c in criteria},
        "queue": queue,
        "position": next((n for n, a in enumerate(queue.items, start=1) if a.id == view.id), 0),
        "next": queue.next_after(view.id),
        "form": _form_of(view),
        "history": reviews.history(session, view),
        "others": others,
        "others_hidden": not others
        and not can.can_see_others(view.round.round, staff=False, own_status=own_status, now=view.round.now),
        "weighted": {r.review.id: reviews.weighted_score(r.review, criteria) for r in others},
        "own_score": reviews.weighted_score(view.review, criteria) if view.review else None,
        "shown_inline": SHOWN_INLINE,
        "autosaves": view.may_review and own_status in TO_DO,
        "conflict_form": {},
        "conflict_errors": {},
        "pitch": slots.slot_for_entry(session, view.entry.id or 0),  # an audition's time, scored on this page
        **extra,
    }
    return render(request, "jury/assignment.html", context, status_code=status_code)


@router.get("/jury/assignments/{assignment_id}", response_class=HTMLResponse)
def scoring_page(request: Request, session: SessionDep, actor: SignedInDep, assignment_id: RecordId) -> Response:
    return _scoring_page(request, session, actor, _own_assignment(session, actor, assignment_id))


SAVED = {
    "draft": "Your draft is saved.",
    "submit": "Your review is submitted. You can change it until the round closes.",
    "next": "Your review is submitted.",
    "abstain": "You abstained from reviewing this proposal.",
}


@router.post("/jury/assignments/{assignment_id}/review", response_class=HTMLResponse)
def review_save(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, assignment_id: RecordId
) -> Response:
    """Save draft, Submit, Submit and next, Abstain. A submission the scores do not allow keeps the draft (the
    unit of work commits it) and shows the form again, each field at fault named."""
    view = _own_assignment(session, actor, assignment_id)
    action = str(form.get("action", "draft"))
    if action not in SAVED:
        action = "draft"
    try:
        data = _review_data(view, form, action)
        saved = reviews.save_review(
            session, actor, view, data, expected_revision=whole_number(form.get("revision"), max_digits=9)
        )
    except (Invalid, Conflict, PreconditionFailed) as exc:
        discard_attempt(session)
        return _refused(request, session, actor, assignment_id, form, exc)
    if saved.problems is not None:
        problems = saved.problems
        shown = {**form, "revision": str(saved.review.revision)}
        return _scoring_page(
            request,
            session,
            actor,
            _own_assignment(session, actor, assignment_id),
            status_code=422,
            form=shown,
            errors=problems.errors,
            error_vars=problems.field_variables,
            form_error=problems.detail,
        )
    flash(request, SAVED[action])
    if action == "next":
        following = _queue(session, actor, records.get_round(session, actor, view.round.id)).next_after(view.id)
        if following is None:
            flash(request, "Every proposal of your queue is reviewed.", "info")
            return redirect(request, round_path(view.round.id))
        return redirect(request, assignment_path(following.id))
    return redirect(request, assignment_path(assignment_id))


def _refused(
    request: Request, session: Session, actor: Actor, assignment_id: int, form: dict[str, Any], exc: DomainError
) -> Response:
    """The scoring page again with what was typed and why it was refused: the fields at fault (422), the round
    closed (409) or the review saved elsewhere meanwhile (412, the form then starts from that revision)."""
    view = _own_assignment(session, actor, assignment_id)
    shown = dict(form)
    if isinstance(exc, PreconditionFailed) and view.review is not None:
        shown["revision"] = str(view.review.revision)
    errors = exc.errors if isinstance(exc, Invalid) else {}
    error_vars = exc.field_variables if isinstance(exc, Invalid) else {}
    return _scoring_page(
        request,
        session,
        actor,
        view,
        status_code=exc.status,
        form=shown,
        errors=errors,
        error_vars=error_vars,
        form_error=exc.detail if not errors or not isinstance(exc, Invalid) else None,
        form_error_vars=exc.variables,
    )


@router.post("/jury/assignments/{assignment_id}/autosave", response_class=HTMLResponse)
def review_autosave(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, assignment_id: RecordId
) -> Response:
    """The scorecard's draft, saved every few seconds while the juror types (app/static/jury.js): a small
    status fragment with the review's new revision. A submitted review is not autosaved (its changes are
    submitted again, with the checks); a refusal is said in the fragment, never as an error page."""
    view = _own_assignment(session, actor, assignment_id)
    context: dict[str, Any] = {"a": view, "tz": view.round.timezone}
    if view.status in DONE:
        return render(request, "jury/_autosave.html", {**context, "paused": True})
    try:
        data = _review_data(view, form, "draft")
        saved = reviews.save_review(
            session, actor, view, data, expected_revision=whole_number(form.get("revision"), max_digits=9)
        )
    except (Invalid, Conflict, PreconditionFailed) as exc:
        discard_attempt(session)
        return render(request, "jury/_autosave.html", {**context, "refused": exc})
    return render(request, "jury/_autosave.html", {**context, "saved": saved.review})


@router.get("/jury/assignments/{assignment_id}/attachments/{attachment_id}")
def assignment_attachment(
    session: SessionDep, actor: SignedInDep, assignment_id: RecordId, attachment_id: RecordId
) -> Response:
    """An attachment of the proposal as submitted, shown in the scoring page (PDFs and images) under a name
    that says nothing of the startup in a blind round."""
    view = _own_assignment(session, actor, assignment_id)
    name = next((name for _, item, name in _attachments(view) if item.get("id") == attachment_id), None)
    found = view.proposal.shown_attachment(attachment_id)
    if name is None or found is None:
        raise NotFound()
    response = web_files.download_response(attachments.attachment_path(found), name, found.media_type)
    if found.media_type in SHOWN_INLINE:
        response.headers["Content-Disposition"] = web_files.content_disposition(name, "inline")
        response.headers["Content-Security-Policy"] = INLINE_CSP
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


# ---- invitations ------------------------------------------------------------------------------------------


def _invitation_context(session: Session, invitation: jurors.OpenInvitation, secret: str) -> dict[str, Any]:
    challenge = session.get(Challenge, invitation.round.challenge_id)
    assert challenge is not None
    return {
        "invitation": invitation,
        "juror": invitation.juror,
        "round": invitation.round,
        "challenge": challenge,
        "secret": secret,
    }


@router.get("/jury/invitations/{secret}", response_class=HTMLResponse)
def invitation_page(request: Request, session: SessionDep, actor: ActorDep, secret: str) -> Response:
    invitation = jurors.open_invitation(session, secret)
    return render(request, "jury/invitation.html", _invitation_context(session, invitation, secret))


@router.post("/jury/invitations/{secret}", response_class=HTMLResponse)
def invitation_accept(request: Request, session: SessionDep, actor: ActorDep, form: FormDep, secret: str) -> Response:
    """Accept signed in with the invited address, or with a new account (name and password), then signed in."""
    invitation = jurors.open_invitation(session, secret)
    try:
        data = None if actor.is_authenticated else parse(InvitationAcceptance, form)
        juror = jurors.accept_invitation(session, actor, secret, data)
    except Invalid as exc:
        discard_attempt(session)
        return form_error(request, "jury/invitation.html", form, exc, _invitation_context(session, invitation, secret))
    except (Conflict, Forbidden) as exc:  # another account signed in, or the address has one: say what to do
        discard_attempt(session)
        context = {**_invitation_context(session, invitation, secret), "form_error": exc.detail}
        return render(request, "jury/invitation.html", context, status_code=exc.status)
    flash(request, "You sit on the jury. Your proposals to score appear here once they are assigned.")
    target = round_path(juror.round_id) if invitation.round.status != "draft" else "/jury"
    if actor.is_authenticated:
        return redirect(request, target)
    assert juror.user_id is not None
    return sign_in_response(request, session, juror.user_id, target)
