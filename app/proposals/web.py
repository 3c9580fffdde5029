"""HTML pages of proposals: my applications, the proposal form (autosaved with htmx), submission and receipts,
the sponsors' list, eligibility and exports, the challenge's extra questions."""

from collections.abc import Callable
from functools import partial
from typing import Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse
from sqlmodel import Session
from starlette.responses import Response

from app.challenges import service as challenges
from app.challenges.service import ChallengeView
from app.challenges.web import challenge_path
from app.db import SessionDep, discard_attempt, reads_that_write
from app.errors import Conflict, DomainError, Invalid
from app.files import staging
from app.files import types as file_types
from app.proposals import attachments, drafts, exports, forms, queries, questions, records, service
from app.proposals import permissions as can
from app.proposals.models import STATUS_LABELS, ProposalAttachment, QuestionKind
from app.proposals.records import ProposalView
from app.proposals.schemas import EligibilityDecision, ProposalCreate, QuestionCreate, QuestionUpdate
from app.security.actor import Actor
from app.security.bodylimit import streamed_upload
from app.startups import service as startups
from app.templating import environment
from app.validation import RecordId, parse, whole_number
from app.web import files as web_files
from app.web.confirm import require_confirmation
from app.web.deps import FormDep, SignedInDep
from app.web.flash import flash
from app.web.templating import redirect, render
from app.web.uploads import Refusal, upload_route

router = APIRouter()

PageSection = Callable[[Session, Actor, ProposalView], dict[str, Any]]
# What the domains built on proposals add to a proposal's page (the jury's auditions): app/pages/proposal.py
# installs them, so that this domain imports none of those above it.
PAGE_SECTIONS: list[PageSection] = []

STATUS_FILTERS = tuple(can.REVIEWABLE)  # the statuses of the proposals the staff read
environment.globals["PROPOSAL_STATUS_LABELS"] = STATUS_LABELS  # templates/proposals/_labels.html names statuses
KINDS = tuple(k.value for k in QuestionKind)
BOTH_CHANGED = "A teammate changed the same fields: choose what to keep for each one, then save. The rest is saved."
PARTLY_SAVED = "Some fields are not saved yet: correct them below. Everything else is saved."


def proposal_path(proposal_id: int | None) -> str:
    return f"/proposals/{proposal_id}"


def _common(view: ProposalView) -> dict[str, Any]:
    return {
        "view": view,
        "p": view.proposal,
        "challenge": view.challenge,
        "c": view.challenge.challenge,
        "tz": view.challenge.programme.timezone,
        "deadline": records.format_deadline(view.challenge),
    }


def _page(request: Request, session: Session, view: ProposalView, *, status_code: int = 200, **extra: Any) -> Response:
    context = {
        **_common(view),
        "content": view.content,
        "problems": service.submission_problems(view) if view.may_edit else {},
        "decided_by": records.eligibility_decider(session, view),
        "organisation": view.startup,
        "profile": startups.profile_of(session, view.startup.id or 0),
        "may_edit_profile": False,
        "submit_error": None,
        "submit_error_vars": {},
        **{k: v for section in PAGE_SECTIONS for k, v in section(session, view.actor, view).items()},
        **extra,
    }
    return render(request, "proposals/page.html", context, status_code=status_code)


def _fields_context(view: ProposalView) -> dict[str, Any]:
    """What the proposal form and its autosave answer need to name and place each field."""
    answerable = [q for q in view.questions if q.kind != QuestionKind.file]
    kpis = ["kpis"] if view.challenge.challenge.kpis else []
    return {
        "answer_labels": {f"{drafts.ANSWER}{q.id}": q.label for q in view.questions},
        "field_keys": [*drafts.SCALARS, "team", "plan", *kpis, *(f"{drafts.ANSWER}{q.id}" for q in answerable)],
        "joinable": drafts.JOINABLE,
        "long_answers": {f"{drafts.ANSWER}{q.id}" for q in answerable if q.kind == QuestionKind.long_text},
    }


def _edit_context(view: ProposalView) -> dict[str, Any]:
    return {
        **_common(view),
        **_fields_context(view),
        "max_upload": file_types.human_size(staging.max_upload_bytes()),
        "accept": ",".join(sorted(file_types.BY_EXTENSION)),
        "upload_error": None,
        "upload_error_vars": {},
    }


def _edit_page(
    request: Request, view: ProposalView, form: dict[str, Any], *, status_code: int = 200, **extra: Any
) -> Response:
    context = {**_edit_context(view), "form": form, **extra}
    return render(request, "proposals/form.html", context, status_code=status_code)


# ---- the startup's side ------------------------------------------------------------------------------------


@router.get("/my/applications", response_class=HTMLResponse)
def my_applications(request: Request, session: SessionDep, actor: SignedInDep) -> Response:
    return render(request, "proposals/mine.html", {"views": queries.list_my_proposals(session, actor)})


@router.post("/challenges/{challenge_id}/proposals")
def proposal_start(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, challenge_id: RecordId
) -> Response:
    """Start (or go back to) the proposal of the actor's startup (the one chosen, for members of several)."""
    challenge = challenges.get_challenge(session, actor, challenge_id)
    wanted = str(form.get("startup", ""))
    startup_id = whole_number(wanted)
    existing = queries.startup_proposal(session, actor, challenge, startup_id)
    if existing is not None:
        return redirect(request, proposal_path(existing.id) + "/edit")
    try:
        view = service.create_proposal(session, actor, ProposalCreate(challenge=challenge_id, startup=startup_id))
    except Invalid as exc:
        discard_attempt(session)
        flash(request, exc.errors.get("startup", exc.detail), "error")
        return redirect(request, challenge_path(challenge))
    except Conflict as exc:
        if not exc.variables.get("proposal"):
            raise
        return redirect(request, proposal_path(exc.variables["proposal"]) + "/edit")  # a teammate's click won
    flash(request, "Your draft proposal is created. It saves as you type; submit it before the deadline.")
    return redirect(request, proposal_path(view.proposal.id) + "/edit")


@router.get("/proposals/{proposal_id}", response_class=HTMLResponse)
def proposal_page(request: Request, session: SessionDep, actor: SignedInDep, proposal_id: RecordId) -> Response:
    return _page(request, session, records.get_proposal(session, actor, proposal_id))


@router.get("/proposals/{proposal_id}/edit", response_class=HTMLResponse)
def proposal_edit(request: Request, session: SessionDep, actor: SignedInDep, proposal_id: RecordId) -> Response:
    view = records.get_member_proposal(session, actor, proposal_id)
    if not view.may_edit:
        flash(request, "The deadline has passed: the proposal can no longer change.", "warning")
        return redirect(request, proposal_path(proposal_id))
    return _edit_page(request, view, forms.form_from_proposal(view.proposal))


def _save(session: Session, actor: Actor, view: ProposalView, form: dict[str, Any]) -> service.DraftSave:
    """Save what the form holds that can be saved, merged with teammates' saves (app/proposals/drafts.py)."""
    fields, problems = forms.fields_from_form(form, view.questions)
    data, refused = forms.valid_fields(fields)
    return service.save_draft(
        session,
        actor,
        view,
        data,
        base=whole_number(str(form.get("revision", ""))),
        editor=forms.editor_of(form),
        choices=forms.choices_from_form(form),
        seen=whole_number(str(form.get("seen", ""))),
        problems={**problems, **refused},
    )


def _unfinished(request: Request, form: dict[str, Any], saved: service.DraftSave) -> Response:
    """The form again after a save that left fields out: what was saved is said, the fields left out keep the
    user's input with their message, a teammate's changes merged in are shown, and a field both changed is
    shown side by side with the choice of what to keep."""
    view = saved.view
    shown = {**form, **forms.form_values(view.proposal, saved.kept)}
    shown["editor"] = forms.editor_of(form) or forms.new_editor()
    errors = {k: message for k, (message, _) in saved.problems.items()}
    error_vars = {k: variables for k, (_, variables) in saved.problems.items()}
    return _edit_page(
        request,
        view,
        shown,
        status_code=409 if saved.conflicts else 422,
        conflicts={k: forms.shown_value(k, v) for k, v in saved.conflicts.items()},
        saved_fields=saved.saved,
        kept_fields=saved.kept,
        errors=errors,
        error_vars=error_vars,
        form_error=BOTH_CHANGED if saved.conflicts else PARTLY_SAVED,
    )


@router.post("/proposals/{proposal_id}/edit", response_class=HTMLResponse)
def proposal_update(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, proposal_id: RecordId
) -> Response:
    view = service.get_editable_proposal(session, actor, proposal_id)
    saved = _save(session, actor, view, form)
    if saved.conflicts or saved.problems:
        return _unfinished(request, form, saved)
    if saved.kept:
        flash(request, "The proposal is saved, with your teammate's changes made in the meantime.")
    else:
        flash(request, "The proposal is saved.")
    target = proposal_path(proposal_id) + ("" if form.get("then") == "review" else "/edit")
    return redirect(request, target)


@router.post("/proposals/{proposal_id}/autosave", response_class=HTMLResponse)
def proposal_autosave(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, proposal_id: RecordId
) -> Response:
    """The htmx autosave: saves what can be saved and answers a small status fragment, with each field's
    message swapped onto the field out of band; a refusal (the deadline) is said in the fragment, never as
    an error page."""
    view = records.get_member_proposal(session, actor, proposal_id)
    context: dict[str, Any] = {"p": view.proposal, "tz": view.challenge.programme.timezone, **_fields_context(view)}
    try:
        saved = _save(session, actor, view, form)
    except Conflict as exc:
        discard_attempt(session)
        return render(
            request, "proposals/_autosave.html", {**context, "closed": exc.detail, "closed_vars": exc.variables}
        )
    return render(request, "proposals/_autosave.html", {**context, "p": saved.view.proposal, "saved": saved})


@router.post("/proposals/{proposal_id}/submit", response_class=HTMLResponse)
def proposal_submit(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, proposal_id: RecordId
) -> Response:
    view = records.get_member_proposal(session, actor, proposal_id, for_submission=True)
    try:
        shown = str(form.get("terms_version", ""))
        version = service.submit_proposal(
            session,
            actor,
            view,
            accept_terms=form.get("accept_terms") == "true",
            terms_version=whole_number(shown, max_digits=7),
            terms_language=str(form.get("terms_language", "")) or None,
        )
    except (Invalid, Conflict) as exc:
        discard_attempt(session)
        view = records.get_proposal(session, actor, proposal_id)
        errors = exc.errors if isinstance(exc, Invalid) else {}
        return _page(
            request,
            session,
            view,
            status_code=exc.status,
            submit_error=exc.detail,
            submit_error_vars=exc.variables,
            errors=errors,
        )
    flash(request, "Your proposal is submitted. Keep this receipt.")
    return redirect(request, proposal_path(proposal_id) + f"/versions/{version.number}")


@router.get("/proposals/{proposal_id}/versions/{number}", response_class=HTMLResponse)
def proposal_receipt(
    request: Request, session: SessionDep, actor: SignedInDep, proposal_id: RecordId, number: RecordId
) -> Response:
    view = records.get_proposal(session, actor, proposal_id)
    version = records.get_version(session, actor, view, number)
    return render(request, "proposals/receipt.html", {**_common(view), "version": version})


@router.post("/proposals/{proposal_id}/withdraw")
def proposal_withdraw(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, proposal_id: RecordId
) -> Response:
    view = records.get_member_proposal(session, actor, proposal_id)
    require_confirmation(form)
    service.withdraw_proposal(session, actor, view)
    flash(request, "Your proposal is withdrawn. You may submit it again until the deadline.", "info")
    return redirect(request, proposal_path(proposal_id))


# ---- attachments -------------------------------------------------------------------------------------------


@router.post("/proposals/{proposal_id}/attachments", response_class=HTMLResponse)
@streamed_upload
async def attachment_upload(
    request: Request, session: SessionDep, actor: SignedInDep, proposal_id: RecordId
) -> Response:
    """The streamed upload. The CSRF token comes in the query string, never in the body, so that the CSRF
    check does not parse (and buffer) the upload."""

    def done(stored: ProposalAttachment) -> Response:
        flash(request, "The file %(name)s is attached.", name=stored.name)
        return redirect(request, proposal_path(proposal_id) + "/edit#attachments")

    def refused(refusal: Refusal) -> Response:
        view = records.get_proposal(session, actor, proposal_id)
        if not view.may_edit:
            raise refusal.error
        return _edit_page(
            request,
            view,
            forms.form_from_proposal(view.proposal),
            status_code=refusal.status,
            upload_error=refusal.message,
            upload_error_vars=refusal.variables,
        )

    return await upload_route(
        request,
        session,
        partial(attachments.receive_attachment, session, actor, proposal_id),
        done=done,
        refused=refused,
    )


@router.post("/proposals/{proposal_id}/attachments/{attachment_id}/remove")
def attachment_remove(
    request: Request,
    session: SessionDep,
    actor: SignedInDep,
    form: FormDep,
    proposal_id: RecordId,
    attachment_id: RecordId,
) -> Response:
    require_confirmation(form)
    attachments.remove_attachment(session, actor, proposal_id, attachment_id)
    flash(request, "The attachment is removed.", "info")
    return redirect(request, proposal_path(proposal_id) + "/edit#attachments")


@router.get("/proposals/{proposal_id}/attachments/{attachment_id}/download")
def attachment_download(
    session: SessionDep, actor: SignedInDep, proposal_id: RecordId, attachment_id: RecordId
) -> Response:
    found = attachments.get_attachment(session, actor, proposal_id, attachment_id)
    return web_files.download_response(attachments.attachment_path(found), found.name, found.media_type)


# ---- the sponsors' side --------------------------------------------------------------------------------------


@router.get("/challenges/{challenge_id}/proposals", response_class=HTMLResponse)
def challenge_proposals(
    request: Request,
    session: SessionDep,
    actor: SignedInDep,
    challenge_id: RecordId,
    status: str | None = None,
    q: str | None = None,
) -> Response:
    challenge = challenges.get_challenge(session, actor, challenge_id)
    wanted = status if status in STATUS_FILTERS else None
    query = (q or "").strip()[:100] or None
    listing = queries.challenge_proposals(session, actor, challenge, status=wanted, q=query)
    return render(
        request,
        "proposals/challenge_list.html",
        {
            "listing": listing,
            "challenge": challenge,
            "c": challenge.challenge,
            "tz": challenge.programme.timezone,
            "statuses": STATUS_FILTERS,
            "filters": {"status": wanted or "", "q": query or ""},
        },
    )


@router.get("/challenges/{challenge_id}/proposals.csv", dependencies=[Depends(reads_that_write)])
def challenge_proposals_csv(
    session: SessionDep, actor: SignedInDep, challenge_id: RecordId, separator: Literal["comma", "semicolon"] = "comma"
) -> Response:
    """`separator=semicolon` is the form Excel opens in French and Arabic locales. The export records its audit in
    the request's transaction, which must therefore be able to write (the ZIP export is built in a read
    transaction and records its audit in a new one)."""
    challenge = challenges.get_challenge(session, actor, challenge_id)
    body = exports.export_csv(session, actor, challenge, separator=separator)
    suffix = "-excel" if separator == "semicolon" else ""
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": web_files.content_disposition(f"proposals-{challenge.challenge.slug}{suffix}.csv"),
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/challenges/{challenge_id}/proposals.zip")
def challenge_proposals_zip(
    request: Request, session: SessionDep, actor: SignedInDep, challenge_id: RecordId, background: BackgroundTasks
) -> Response:
    challenge = challenges.get_challenge(session, actor, challenge_id)
    try:
        path = exports.export_zip(session, actor, challenge)
    except exports.NothingToExport as exc:
        flash(request, exc.detail, "info", **exc.variables)
        return redirect(request, f"/challenges/{challenge_id}/proposals")
    background.add_task(path.unlink, missing_ok=True)
    return FileResponse(
        path,
        media_type="application/zip",
        headers={
            "Content-Disposition": web_files.content_disposition(f"proposals-{challenge.challenge.slug}.zip"),
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/proposals/{proposal_id}/eligibility", response_class=HTMLResponse)
def proposal_eligibility(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, proposal_id: RecordId
) -> Response:
    view = records.get_proposal(session, actor, proposal_id)
    try:
        decision = parse(
            EligibilityDecision,
            {"eligible": form.get("eligible", ""), "reason": form.get("reason", "")},
        )
        service.decide_eligibility(session, actor, view, decision)
    except Invalid as exc:
        discard_attempt(session)
        view = records.get_proposal(session, actor, proposal_id)
        return _page(request, session, view, status_code=422, form=form, errors=exc.errors)
    flash(request, "The eligibility check is recorded.")
    return redirect(request, proposal_path(proposal_id))


# ---- extra questions -----------------------------------------------------------------------------------------


def _questions_page(
    request: Request, session: Session, actor: Actor, challenge: ChallengeView, *, status_code: int = 200, **extra: Any
) -> Response:
    context = {
        "challenge": challenge,
        "c": challenge.challenge,
        "questions": questions.list_questions(session, actor, challenge),
        "frozen": questions.has_submissions(session, challenge),
        "kinds": KINDS,
        **extra,
    }
    return render(request, "proposals/questions.html", context, status_code=status_code)


def _editable_challenge(session: Session, actor: Actor, challenge_id: int) -> ChallengeView:
    return challenges.get_editable_challenge(session, actor, challenge_id)


def _questions_path(challenge: ChallengeView) -> str:
    return f"/challenges/{challenge.challenge.id}/proposal-questions"


def _question_data(form: dict[str, Any]) -> dict[str, Any]:
    """The question form's fields as the schemas take them (options one per line)."""
    return {
        "kind": form.get("kind", ""),
        "label": form.get("label", ""),
        "help": form.get("help", ""),
        "choices": [line.strip() for line in str(form.get("choices", "")).splitlines() if line.strip()],
        "required": form.get("required") == "true",
    }


def _question_errors(exc: DomainError) -> dict[str, str]:
    errors = exc.errors if isinstance(exc, Invalid) else {}
    if any(k.startswith("choices.") for k in errors):
        errors = {**errors, "choices": "Each option is at most 200 characters."}
    return errors


@router.get("/challenges/{challenge_id}/proposal-questions", response_class=HTMLResponse)
def questions_page(request: Request, session: SessionDep, actor: SignedInDep, challenge_id: RecordId) -> Response:
    return _questions_page(request, session, actor, _editable_challenge(session, actor, challenge_id))


@router.post("/challenges/{challenge_id}/proposal-questions", response_class=HTMLResponse)
def question_add(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, challenge_id: RecordId
) -> Response:
    challenge = _editable_challenge(session, actor, challenge_id)
    try:
        questions.add_question(session, actor, challenge, parse(QuestionCreate, _question_data(form)))
    except (Invalid, Conflict) as exc:
        discard_attempt(session)
        return _questions_page(
            request,
            session,
            actor,
            challenge,
            status_code=exc.status,
            form=form,
            errors=_question_errors(exc),
            form_error=exc.detail,
            error_vars=exc.field_variables if isinstance(exc, Invalid) else {},
        )
    flash(request, "The question is added to the proposal form.")
    return redirect(request, _questions_path(challenge))


def _question_edit_page(
    request: Request, question: Any, challenge: ChallengeView, *, status_code: int = 200, **extra: Any
) -> Response:
    context = {"challenge": challenge, "c": challenge.challenge, "question": question, **extra}
    return render(request, "proposals/question_edit.html", context, status_code=status_code)


@router.get("/proposal-questions/{proposal_question_id}/edit", response_class=HTMLResponse)
def question_edit(
    request: Request, session: SessionDep, actor: SignedInDep, proposal_question_id: RecordId
) -> Response:
    question, challenge = questions.get_editable_question(session, actor, proposal_question_id)
    form = {
        "label": question.label,
        "help": question.help,
        "choices": "\n".join(question.choices),
        "required": "true" if question.required else "",
    }
    return _question_edit_page(
        request, question, challenge, form=form, frozen=questions.has_submissions(session, challenge)
    )


@router.post("/proposal-questions/{proposal_question_id}/edit", response_class=HTMLResponse)
def question_update(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, proposal_question_id: RecordId
) -> Response:
    question, challenge = questions.get_editable_question(session, actor, proposal_question_id)
    try:
        questions.update_question(
            session,
            actor,
            proposal_question_id,
            parse(QuestionUpdate, {k: v for k, v in _question_data(form).items() if k != "kind"}),
        )
    except (Invalid, Conflict) as exc:
        discard_attempt(session)
        question, challenge = questions.get_editable_question(session, actor, proposal_question_id)
        return _question_edit_page(
            request,
            question,
            challenge,
            status_code=exc.status,
            form=form,
            errors=_question_errors(exc),
            form_error=exc.detail,
            error_vars=exc.field_variables if isinstance(exc, Invalid) else {},
        )
    flash(request, "The question is saved.")
    return redirect(request, _questions_path(challenge) + f"#question-{proposal_question_id}")


@router.post("/proposal-questions/{proposal_question_id}/move")
def question_move(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, proposal_question_id: RecordId
) -> Response:
    questions.get_editable_question(session, actor, proposal_question_id)
    step = {"up": -1, "down": 1}.get(str(form.get("direction", "")))
    if step is None:
        raise Invalid({"direction": "Choose one of the options."})
    challenge = questions.move_question(session, actor, proposal_question_id, step)
    flash(request, "The questions are reordered.")
    return redirect(request, _questions_path(challenge) + f"#question-{proposal_question_id}")


@router.post("/proposal-questions/{proposal_question_id}/remove")
def question_remove(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, proposal_question_id: RecordId
) -> Response:
    require_confirmation(form)
    challenge = questions.remove_question(session, actor, proposal_question_id)
    flash(request, "The question is removed.", "info")
    return redirect(request, _questions_path(challenge))
