"""HTML pages the challenge's staff run a round with: the rounds of a challenge, the round form with its
criteria, and the round's page (settings, opening and closing, entries, jurors, conflicts, assignment,
progress, reminders). Jurors and everyone else get 404 on all of them; the jurors' own pages are app/jury/web.py."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session
from starlette.responses import Response

from app.challenges import service as challenges
from app.challenges.service import ChallengeView
from app.challenges.web import challenge_path
from app.db import SessionDep, discard_attempt, utcnow
from app.errors import Conflict, Invalid, NotFound, PreconditionFailed
from app.i18n import N_, gettext
from app.jury import assignments, jurors, records, service
from app.jury.assignment import Shortfall
from app.jury.models import (
    CONFLICT_SOURCE_LABELS,
    OTHERS_VISIBLE_LABELS,
    ROUND_KIND_LABELS,
    Juror,
    JuryEntry,
    RoundStatus,
)
from app.jury.records import RoundView
from app.jury.schemas import (
    AssignmentIn,
    ConflictIn,
    EntriesIn,
    ExclusionIn,
    JurorIn,
    RoundCreate,
    RoundUpdate,
    datacity_criteria,
)
from app.proposals import records as proposal_records
from app.proposals.models import Proposal
from app.proposals.records import ProposalView
from app.security.actor import Actor
from app.templating import environment
from app.validation import RecordId, parse, whole_number
from app.web.confirm import require_confirmation
from app.web.deps import FormDep, SignedInDep
from app.web.flash import flash, reveal
from app.web.templating import redirect, render

router = APIRouter()

environment.globals["ROUND_KIND_LABELS"] = ROUND_KIND_LABELS
environment.globals["OTHERS_VISIBLE_LABELS"] = OTHERS_VISIBLE_LABELS
environment.globals["CONFLICT_SOURCE_LABELS"] = CONFLICT_SOURCE_LABELS

# The criteria editor works without JavaScript: a fixed number of rows, the blank ones ignored (a round has at
# most 30 criteria, RoundFields.criteria).
CRITERION_ROWS = 8
MAX_CRITERIA = 30
LOCAL_TIME = "%Y-%m-%dT%H:%M"  # a datetime-local input's value
SHORTFALLS = {
    Shortfall.too_few_jurors: N_("“%(title)s” lacks %(missing)s review(s): the round has too few jurors."),
    Shortfall.conflicts: N_("“%(title)s” lacks %(missing)s review(s): too many jurors are in conflict with it."),
    Shortfall.max_load: N_("“%(title)s” lacks %(missing)s review(s): the other jurors are at their maximum load."),
}
ASSIGNED = N_("Assigned automatically: %(assigned)s review(s) among %(jurors)s juror(s), %(min)s to %(max)s each.")
SHORTFALLS_SHOWN = 5  # in the report after an assignment (a cookie): the entries' progress lists them all
CRITERIA_FROZEN = N_("The criteria cannot change once the round is open: the jurors score on them.")


def round_path(round_id: int) -> str:
    return f"/rounds/{round_id}"


def _staff_challenge(session: Session, actor: Actor, challenge_id: int) -> ChallengeView:
    """A challenge whose rounds the actor runs; 404 to anyone else, its jurors included."""
    challenge = challenges.get_challenge(session, actor, challenge_id)
    if not challenge.is_staff(actor):
        raise NotFound()
    return challenge


# ---- the round form ------------------------------------------------------------------------------------


def _number(value: Any) -> str:
    """A number as typed, the decimal comma of French and Arabic read as a point."""
    return str(value or "").strip().replace(",", ".").replace("٫", ".")


def _settings_from_form(form: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in ("name", "opens_at", "closes_at")}
    for name in ("kind", "others_visible", "reviews_per_proposal"):
        if str(form.get(name, "")).strip():
            data[name] = str(form[name]).strip()
    data["max_load"] = str(form.get("max_load", "")).strip() or None  # blank: no limit
    for name in ("blind", "slots_bookable"):
        data[name] = form.get(name) in ("true", "on")
    return data


def _criteria_from_form(form: dict[str, Any]) -> tuple[list[dict[str, Any]], list[int]]:
    """The criterion rows that are filled in, and the row each comes from (to put an error back on its row)."""
    rows, numbers = [], []
    for i in range(MAX_CRITERIA):
        name = str(form.get(f"criteria-{i}-name", "")).strip()
        description = str(form.get(f"criteria-{i}-description", "")).strip()
        if not name and not description:
            continue
        row: dict[str, Any] = {
            "name": name,
            "description": description,
            "comment_required": form.get(f"criteria-{i}-comment_required") in ("true", "on"),
        }
        for key in ("weight", "min", "max", "step"):
            if value := _number(form.get(f"criteria-{i}-{key}")):
                row[key] = value
        rows.append(row)
        numbers.append(i)
    return rows, numbers


def _on_rows(exc: Invalid, numbers: list[int]) -> Invalid:
    """The errors of the criteria ("criteria.2.weight") moved to the form's rows ("criteria-5-weight")."""
    errors, variables = {}, {}
    for name, message in exc.errors.items():
        head, _, rest = name.partition(".")
        index, _, key = rest.partition(".")
        field = name
        if head == "criteria" and index.isdigit() and int(index) < len(numbers):
            field = f"criteria-{numbers[int(index)]}-{key or 'name'}"
        errors[field] = message
        variables[field] = exc.field_variables.get(name, {})
    moved = Invalid(errors, exc.detail, field_variables=variables)
    moved.variables = exc.variables
    return moved


def _round_input(form: dict[str, Any], model: type[RoundCreate] | type[RoundUpdate], *, criteria: bool) -> Any:
    data = _settings_from_form(form)
    rows, numbers = _criteria_from_form(form)
    if criteria and rows:
        data["criteria"] = rows
    try:
        return parse(model, data)
    except Invalid as exc:
        raise _on_rows(exc, numbers) from None


def _criteria_form(criteria: list[Any]) -> dict[str, Any]:
    """Form values of criterion rows from stored criteria (JuryCriterion) or the preset (CriterionIn)."""
    values: dict[str, Any] = {}
    for i, c in enumerate(criteria):
        row = {
            "name": c.name,
            "description": c.description,
            "weight": c.weight,
            "min": getattr(c, "min_score", getattr(c, "min", 0)),
            "max": getattr(c, "max_score", getattr(c, "max", 5)),
            "step": c.step,
        }
        values |= {f"criteria-{i}-{k}": f"{v:g}" if isinstance(v, float | int) else v for k, v in row.items()}
        if c.comment_required:
            values[f"criteria-{i}-comment_required"] = "true"
    return values


def _form_from_round(view: RoundView) -> dict[str, Any]:
    fields = service.round_fields_for_form(view)
    return {
        "name": fields.name,
        "kind": fields.kind,
        "opens_at": fields.opens_at.strftime(LOCAL_TIME) if fields.opens_at else "",
        "closes_at": fields.closes_at.strftime(LOCAL_TIME) if fields.closes_at else "",
        "reviews_per_proposal": str(fields.reviews_per_proposal),
        "max_load": "" if fields.max_load is None else str(fields.max_load),
        "blind": "true" if fields.blind else "",
        "others_visible": fields.others_visible,
        "slots_bookable": "true" if fields.slots_bookable else "",
        "revision": str(view.round.revision),
        **_criteria_form(view.criteria),
    }


def _row_count(form: dict[str, Any]) -> int:
    """Enough rows for the criteria the form holds and a few more, within the limit."""
    filled = [i for i in range(MAX_CRITERIA) if form.get(f"criteria-{i}-name") or form.get(f"criteria-{i}-description")]
    return min(MAX_CRITERIA, max(CRITERION_ROWS, (max(filled) + 1 if filled else 0) + 3))


def _form_page(
    request: Request,
    challenge: ChallengeView,
    view: RoundView | None,
    form: dict[str, Any],
    *,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    context = {
        "challenge": challenge,
        "c": challenge.challenge,
        "view": view,
        "tz": challenge.programme.timezone,
        "form": form,
        "rows": _row_count(form),
        "criteria_editable": view is None or view.may_edit_criteria,
        "criteria_frozen": CRITERIA_FROZEN,
        **extra,
    }
    return render(request, "jury/staff/form.html", context, status_code=status_code)


def _form_error(
    request: Request, challenge: ChallengeView, view: RoundView | None, form: dict[str, Any], exc: Invalid | Conflict
) -> HTMLResponse:
    if isinstance(exc, Invalid):
        errors = {"errors": exc.errors, "error_vars": exc.field_variables, "form_error": exc.detail}
        return _form_page(request, challenge, view, form, status_code=422, **errors)
    return _form_page(request, challenge, view, form, status_code=409, form_error=exc.detail)


# ---- the rounds of a challenge -------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    entries: int
    jurors: int
    assigned: int
    done: int


def _totals(session: Session, actor: Actor, view: RoundView) -> Totals:
    per_juror, per_entry = assignments.progress(session, actor, view)
    return Totals(
        entries=sum(1 for e in per_entry if e.entry.excluded_at is None),
        jurors=sum(1 for j in per_juror if j.juror.accepted_at is not None),
        assigned=sum(j.assigned for j in per_juror),
        done=sum(j.submitted + j.abstained for j in per_juror),
    )


@router.get("/challenges/{challenge_id}/rounds", response_class=HTMLResponse)
def round_list(request: Request, session: SessionDep, actor: SignedInDep, challenge_id: RecordId) -> Response:
    challenge = _staff_challenge(session, actor, challenge_id)
    views = records.list_rounds(session, actor, challenge)
    return render(
        request,
        "jury/staff/rounds.html",
        {
            "challenge": challenge,
            "c": challenge.challenge,
            "challenge_path": challenge_path(challenge),
            "tz": challenge.programme.timezone,
            "rounds": [(v, _totals(session, actor, v)) for v in views],
        },
    )


@router.get("/challenges/{challenge_id}/rounds/new", response_class=HTMLResponse)
def round_new(
    request: Request, session: SessionDep, actor: SignedInDep, challenge_id: RecordId, preset: str | None = None
) -> Response:
    challenge = _staff_challenge(session, actor, challenge_id)
    form: dict[str, Any] = {"kind": "written", "reviews_per_proposal": "3", "others_visible": "after_close"}
    if preset == "datacity":
        form |= _criteria_form(datacity_criteria())
    return _form_page(request, challenge, None, form)


@router.post("/challenges/{challenge_id}/rounds/new", response_class=HTMLResponse)
def round_create(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, challenge_id: RecordId
) -> Response:
    challenge = _staff_challenge(session, actor, challenge_id)
    try:
        view = service.create_round(session, actor, challenge, _round_input(form, RoundCreate, criteria=True))
    except Invalid as exc:
        discard_attempt(session)
        return _form_error(request, challenge, None, form, exc)
    flash(request, "The round is created as a draft: enter its proposals and seat its jurors, then open it.")
    return redirect(request, round_path(view.id))


# ---- editing a round -----------------------------------------------------------------------------------


@router.get("/rounds/{round_id}/edit", response_class=HTMLResponse)
def round_edit(request: Request, session: SessionDep, actor: SignedInDep, round_id: RecordId) -> Response:
    view = records.get_managed_round(session, actor, round_id)
    if not view.may_edit_settings:
        flash(request, "A closed round cannot change.", "warning")
        return redirect(request, round_path(view.id))
    return _form_page(request, view.challenge, view, _form_from_round(view))


@router.post("/rounds/{round_id}/edit", response_class=HTMLResponse)
def round_update(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId
) -> Response:
    view = records.get_managed_round(session, actor, round_id)
    # criteria are sent while the round is a draft; sent for an open round they are refused (409), not dropped
    sends_criteria = view.may_edit_criteria or bool(_criteria_from_form(form)[0])
    try:
        data = _round_input(form, RoundUpdate, criteria=sends_criteria)
        if sends_criteria and data.criteria is None and view.criteria:
            raise Invalid({"criteria-0-name": "Keep at least one criterion."})
        view = service.update_round(
            session, actor, view, data, expected_revision=whole_number(str(form.get("revision", "")))
        )
    except PreconditionFailed as exc:
        discard_attempt(session)
        current = records.get_managed_round(session, actor, round_id)
        return _form_page(
            request,
            current.challenge,
            current,
            {**form, "revision": str(current.round.revision)},
            status_code=412,
            form_error=exc.detail,
            saved=current,
        )
    except (Invalid, Conflict) as exc:
        discard_attempt(session)
        return _form_error(request, view.challenge, view, form, exc)
    flash(request, "The round is saved.")
    return redirect(request, round_path(view.id))


# ---- the round's page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryRow:
    entry: JuryEntry
    proposal: ProposalView
    assigned: int
    submitted: int
    abstained: int

    @property
    def title(self) -> str:
        return str(self.proposal.content.get("title") or self.proposal.proposal.title)


@dataclass(frozen=True)
class JurorRow:
    juror: Juror
    assigned: int
    submitted: int
    abstained: int
    drafts: int

    @property
    def to_do(self) -> int:
        return self.assigned - self.submitted - self.abstained


def _proposal_views(session: Session, actor: Actor, view: RoundView, proposals: list[Proposal]) -> list[ProposalView]:
    return proposal_records.views_of(
        session, actor, proposals, {view.challenge.challenge.id or 0: view.challenge}, view.now
    )


def _round_context(session: Session, actor: Actor, view: RoundView) -> dict[str, Any]:
    per_juror, per_entry = assignments.progress(session, actor, view)
    shown = {p.proposal.id: p for p in _proposal_views(session, actor, view, [e.proposal for e in per_entry])}
    entries = [EntryRow(e.entry, shown[e.proposal.id], e.assigned, e.submitted, e.abstained) for e in per_entry]
    closed = view.status in (RoundStatus.closed, RoundStatus.decided)
    candidates = [] if closed else service.candidates(session, actor, view)
    seated = [j for j in per_juror if j.juror.accepted_at is not None]
    return {
        "view": view,
        "r": view.round,
        "challenge": view.challenge,
        "c": view.challenge.challenge,
        "challenge_path": challenge_path(view.challenge),
        "tz": view.timezone,
        "now": utcnow(),
        "closed": closed,
        "criteria_frozen": CRITERIA_FROZEN,
        "entries": entries,
        "live_entries": [e for e in entries if e.entry.excluded_at is None],
        "candidates": len(candidates),
        "shown_candidates": _proposal_views(session, actor, view, candidates),
        "jurors": [JurorRow(j.juror, j.assigned, j.submitted, j.abstained, j.drafts) for j in per_juror],
        "seated": [j.juror for j in seated],
        "late": sum(1 for j in seated if j.assigned - j.submitted - j.abstained > 0),
        "staff_choices": [] if closed else jurors.staff_choices(session, view),
        "conflicts": [(c, c.conflict.reason_in(gettext)) for c in jurors.list_conflicts(session, actor, view)],
        "startups": sorted({e.proposal.startup.id: e.proposal.startup for e in entries}.values(), key=lambda o: o.name),
        "assignments": assignments.list_assignments(session, actor, view),
        "failed": None,
    }


def _round_page(
    request: Request, session: Session, actor: Actor, view: RoundView, *, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    context = {**_round_context(session, actor, view), **extra}
    return render(request, "jury/staff/round.html", context, status_code=status_code)


@router.get("/rounds/{round_id}", response_class=HTMLResponse)
def round_page(request: Request, session: SessionDep, actor: SignedInDep, round_id: RecordId) -> Response:
    return _round_page(request, session, actor, records.get_managed_round(session, actor, round_id))


def _act(
    request: Request,
    session: Session,
    actor: Actor,
    round_id: int,
    form: dict[str, Any],
    failed: str,
    action: Callable[[RoundView], str],
    anchor: str,
) -> Response:
    """Run one of the round page's forms: the flash message it returns and back to its section; a refusal shows
    the page again with the message at that form (`failed`), the input kept: 422, or 409 for the round's state."""
    view = records.get_managed_round(session, actor, round_id)
    try:
        message = action(view)
    except (Invalid, Conflict) as exc:
        discard_attempt(session)
        current = records.get_managed_round(session, actor, round_id)
        errors = exc.errors if isinstance(exc, Invalid) else {}
        variables = exc.field_variables if isinstance(exc, Invalid) else {}
        return _round_page(
            request,
            session,
            actor,
            current,
            status_code=exc.status,
            failed=failed,
            form=form,
            errors=errors,
            error_vars=variables,
            form_error=exc.detail,
            form_error_vars=exc.variables,
        )
    if message:
        flash(request, message)
    return redirect(request, f"{round_path(round_id)}#{anchor}")


# ---- opening and closing -------------------------------------------------------------------------------


@router.post("/rounds/{round_id}/open", response_class=HTMLResponse)
def round_open(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId
) -> Response:
    def act(view: RoundView) -> str:
        require_confirmation(form)
        service.open_round(session, actor, view)
        return "The round is open: its jurors can score until it closes."

    return _act(request, session, actor, round_id, form, "status", act, "status")


@router.post("/rounds/{round_id}/close", response_class=HTMLResponse)
def round_close(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId
) -> Response:
    def act(view: RoundView) -> str:
        require_confirmation(form)
        service.close_round(session, actor, view)
        return "The round is closed: its reviews can no longer change."

    return _act(request, session, actor, round_id, form, "status", act, "status")


# ---- entries -------------------------------------------------------------------------------------------


def _ids(value: Any) -> list[int]:
    values = value if isinstance(value, list) else [value] if value else []
    return [n for n in (whole_number(v) for v in values) if n is not None]


@router.post("/rounds/{round_id}/entries", response_class=HTMLResponse)
def entries_add(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId
) -> Response:
    def act(view: RoundView) -> str:
        if form.get("all") == "true":
            picked = [p.id or 0 for p in service.candidates(session, actor, view)]
        else:
            picked = _ids(form.get("proposals"))
        if not picked:
            raise Invalid({"proposals": "Choose at least one proposal."})
        added = service.add_entries(session, actor, view, EntriesIn(proposals=picked))
        flash(request, "Proposals entered in the round: %(count)s.", count=len(added))
        return ""

    return _act(request, session, actor, round_id, form, "entries", act, "entries")


@router.post("/rounds/{round_id}/entries/{entry_id}/exclude", response_class=HTMLResponse)
def entry_exclude(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId, entry_id: RecordId
) -> Response:
    def act(view: RoundView) -> str:
        data = parse(ExclusionIn, {"reason": form.get("reason", "")})
        service.exclude_entry(session, actor, view, entry_id, data.reason)
        return "The proposal is left out of the round; its assignments without a review are removed."

    return _act(request, session, actor, round_id, form, f"exclude-{entry_id}", act, f"entry-{entry_id}")


@router.post("/rounds/{round_id}/entries/{entry_id}/include", response_class=HTMLResponse)
def entry_include(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId, entry_id: RecordId
) -> Response:
    def act(view: RoundView) -> str:
        service.include_entry(session, actor, view, entry_id)
        return "The proposal is in the round again. Assign it to jurors."

    return _act(request, session, actor, round_id, form, f"exclude-{entry_id}", act, f"entry-{entry_id}")


def _given(form: dict[str, Any], *names: str) -> dict[str, Any]:
    """The fields chosen in the form: one left blank is missing ("This field is required")."""
    return {name: form[name] for name in names if form.get(name)}


# ---- jurors and conflicts ------------------------------------------------------------------------------


@router.post("/rounds/{round_id}/jurors", response_class=HTMLResponse)
def juror_add(request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId) -> Response:
    by_email = form.get("by") == "email"

    def act(view: RoundView) -> str:
        if by_email:
            data = parse(JurorIn, {"email": form.get("email", ""), "name": form.get("name", "")})
        elif not form.get("user"):
            raise Invalid({"user": "Choose a person from the list."})
        else:
            data = parse(JurorIn, {"user": form.get("user")})
        juror, link = jurors.add_juror(session, actor, view, data)
        if link is None:
            flash(request, "Seated on the jury: %(name)s. An email tells them.", name=juror.name)
        else:
            flash(request, "An invitation to sit on the jury is sent to %(email)s.", email=juror.email)
            reveal(request, "juror-invitation", link)
        return ""

    return _act(request, session, actor, round_id, form, "invite" if by_email else "seat", act, "jurors")


@router.post("/rounds/{round_id}/jurors/{juror_id}/remove", response_class=HTMLResponse)
def juror_remove(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId, juror_id: RecordId
) -> Response:
    def act(view: RoundView) -> str:
        require_confirmation(form)
        jurors.remove_juror(session, actor, view, juror_id)
        return "The juror is removed from the round, with their assignments that had no review."

    return _act(request, session, actor, round_id, form, f"juror-{juror_id}", act, "jurors")


@router.post("/rounds/{round_id}/conflicts", response_class=HTMLResponse)
def conflict_declare(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId
) -> Response:
    def act(view: RoundView) -> str:
        data = parse(ConflictIn, _given(form, "juror", "startup") | {"reason": form.get("reason", "")})
        jurors.declare_conflict(session, actor, view, data)
        return "The conflict is declared: the juror's assignments to this startup are removed and given to others."

    return _act(request, session, actor, round_id, form, "conflict", act, "conflicts")


# ---- assignment ----------------------------------------------------------------------------------------


@router.post("/rounds/{round_id}/assign", response_class=HTMLResponse)
def round_assign(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId
) -> Response:
    def act(view: RoundView) -> str:
        report = assignments.assign(session, actor, view)
        flash(
            request,
            ASSIGNED,
            assigned=report.assigned,
            jurors=report.jurors,
            min=report.min_load,
            max=report.max_load,
        )
        for unfilled in report.unfilled[:SHORTFALLS_SHOWN]:
            message = SHORTFALLS[Shortfall(unfilled.reason)]
            flash(request, message, "warning", title=unfilled.proposal_title[:80], missing=unfilled.missing)
        if len(report.unfilled) > SHORTFALLS_SHOWN:
            more = len(report.unfilled) - SHORTFALLS_SHOWN
            flash(request, "More proposals lack reviews (%(count)s): see the proposals below.", "warning", count=more)
        return ""

    return _act(request, session, actor, round_id, form, "assign", act, "assignment")


@router.post("/rounds/{round_id}/assignments", response_class=HTMLResponse)
def assignment_add(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId
) -> Response:
    def act(view: RoundView) -> str:
        data = parse(AssignmentIn, _given(form, "juror", "proposal"))
        assignments.add_assignment(session, actor, view, data)
        return "The assignment is added."

    return _act(request, session, actor, round_id, form, "assignment", act, "assignment")


@router.post("/rounds/{round_id}/assignments/{assignment_id}/remove", response_class=HTMLResponse)
def assignment_remove(
    request: Request,
    session: SessionDep,
    actor: SignedInDep,
    form: FormDep,
    round_id: RecordId,
    assignment_id: RecordId,
) -> Response:
    def act(view: RoundView) -> str:
        require_confirmation(form)
        shown = records.get_assignment(session, actor, assignment_id)
        if shown.assignment.round_id != view.id:
            raise NotFound()
        assignments.remove_assignment(session, actor, shown)
        return "The assignment is removed."

    return _act(request, session, actor, round_id, form, f"assignment-{assignment_id}", act, "assignment")


@router.post("/rounds/{round_id}/remind", response_class=HTMLResponse)
def round_remind(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, round_id: RecordId
) -> Response:
    def act(view: RoundView) -> str:
        count = jurors.remind_late_jurors(session, actor, view)
        flash(request, "A reminder is sent to %(count)s juror(s) with reviews left to write.", count=count)
        return ""

    return _act(request, session, actor, round_id, form, "remind", act, "progress")
