"""HTML pages of challenges: the public list and page, the sponsor's form, the image, publication, follow, Q&A."""

from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select
from starlette.responses import Response

from app.accounts.models import Organisation
from app.challenges import forms, service
from app.challenges import permissions as can
from app.challenges import terms as challenge_terms
from app.challenges.models import LISTED_STATUSES, THEMES, ChallengeStatus
from app.challenges.permissions import is_public
from app.challenges.schemas import AnswerCreate, ChallengeCreate, ChallengeUpdate, QuestionCreate
from app.challenges.service import ChallengeFilters, ChallengeView
from app.db import SessionDep, discard_attempt, utcnow
from app.errors import Invalid, NotFound, PreconditionFailed
from app.files import types as file_types
from app.programmes import service as programmes
from app.security.actor import Actor
from app.security.bodylimit import streamed_upload
from app.validation import RecordId, parse, whole_number
from app.web import files as web_files
from app.web.confirm import require_confirmation
from app.web.deps import ActorDep, FormDep, SignedInDep
from app.web.flash import flash
from app.web.forms import form_error
from app.web.templating import redirect, render
from app.web.uploads import Refusal, upload_route

router = APIRouter()

PageSection = Callable[[Session, Actor, ChallengeView], dict[str, Any]]
# What the domains built on challenges add to its page (datasets, proposals): app/pages/challenge.py installs
# them, so that this domain imports none of those above it.
PAGE_SECTIONS: list[PageSection] = []


def challenge_path(view: ChallengeView) -> str:
    return f"/programmes/{view.programme.slug}/challenges/{view.challenge.slug}"


def _page_number(value: str | None) -> int:
    return max(1, whole_number(value, max_digits=5) or 1)


@router.get("/challenges", response_class=HTMLResponse)
def challenge_list(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    q: str | None = None,
    theme: str | None = None,
    sponsor: str | None = None,
    status: str | None = None,
    programme: str | None = None,
    page: str | None = None,
) -> Response:
    filters = ChallengeFilters(
        programme=programme or None,
        status=status if status in (*LISTED_STATUSES, ChallengeStatus.draft) else None,
        theme=theme if theme in THEMES else None,
        sponsor=sponsor or None,
        q=(q or "").strip()[:100] or None,
    )
    number = _page_number(page)
    views, total = service.list_challenges(session, actor, filters, offset=(number - 1) * service.PAGE_SIZE)
    pages = max(1, -(-total // service.PAGE_SIZE))
    query = {
        k: v
        for k, v in {
            "q": filters.q,
            "theme": filters.theme,
            "sponsor": filters.sponsor,
            "status": filters.status,
            "programme": filters.programme,
        }.items()
        if v
    }
    sponsors = _sponsor_organisations(session)
    return render(
        request,
        "challenges/list.html",
        {
            "views": views,
            "total": total,
            "page": number,
            "pages": pages,
            "filters": query,
            "query_for": lambda n: "?" + urlencode({**query, "page": n}),
            "themes": THEMES,
            "statuses": can.statuses_listed_for(actor),
            "sponsors": sponsors,
            "programmes": programmes.list_programmes(session, actor),
            "now": utcnow(),
        },
    )


@router.get("/programmes/{programme_slug}/challenges/{challenge_slug}", response_class=HTMLResponse)
def challenge_page(
    request: Request, session: SessionDep, actor: ActorDep, programme_slug: str, challenge_slug: str
) -> Response:
    view = service.get_challenge_by_slug(session, actor, programme_slug, challenge_slug)
    return _challenge_page(request, session, actor, view)


def _challenge_page(
    request: Request, session: Session, actor: Actor, view: ChallengeView, status_code: int | None = None, **extra: Any
) -> HTMLResponse:
    context = {
        "view": view,
        "c": view.challenge,
        "questions": service.list_questions(session, actor, view),
        "is_staff": view.is_staff(actor),
        "may_edit": view.may_edit(actor),
        "following": service.is_following(session, actor, view),
        "qa_open": service.qa_open(view),
        "now": utcnow(),
        "tz": view.programme.timezone,
        "form": {},
        "errors": {},
        "error_vars": {},
        "publication_problems": service.publication_problems(view) if view.status == ChallengeStatus.draft else {},
        "deletion": service.draft_contents(session, view) if view.may_delete(actor) else None,
        "image_error": None,
        "image_error_vars": {},
        "image_limit": file_types.human_size(file_types.MAX_IMAGE_BYTES),
        **{k: v for section in PAGE_SECTIONS for k, v in section(session, actor, view).items()},
    }
    context.update(extra)
    if status_code is None:
        status_code = 422 if extra.get("errors") else 200
    return render(request, "challenges/page.html", context, status_code=status_code)


# ---- the sponsor's form --------------------------------------------------------------------------------


def _sponsor_organisations(session: Session) -> list[Organisation]:
    """The organisations that may sponsor a challenge, by name."""
    kinds = [k.value for k in can.SPONSOR_KINDS]
    return list(
        session.exec(select(Organisation).where(col(Organisation.kind).in_(kinds)).order_by(col(Organisation.name)))
    )


def _form_choices(session: Session, actor: Actor) -> dict[str, Any]:
    views = programmes.list_programmes(session, actor)
    allowed = [v for v in views if can.can_create_challenge(actor, v.programme, v.partner_ids)]
    organisations = _sponsor_organisations(session)
    leads = [o for o in organisations if any(can.can_name_lead_sponsor(actor, v.programme, o.id or 0) for v in allowed)]
    leads.sort(key=lambda o: o.id not in actor.organisation_ids())  # one's own first: the default lead
    return {
        "programme_choices": allowed,
        "programme_options": [(str(v.programme.id), v.programme.name) for v in allowed],
        "lead_options": [(str(o.id), o.name) for o in leads],
        "sponsor_choices": organisations,
        "themes": THEMES,
    }


@router.get("/challenges/new", response_class=HTMLResponse)
def challenge_new(request: Request, session: SessionDep, actor: SignedInDep) -> Response:
    choices = _form_choices(session, actor)
    if not choices["programme_choices"]:
        raise NotFound()
    form = {"ip_terms": challenge_terms.default_terms()}
    return render(request, "challenges/form.html", {**choices, "form": form, "view": None})


@router.post("/challenges/new", response_class=HTMLResponse)
def challenge_create(request: Request, session: SessionDep, actor: SignedInDep, form: FormDep) -> Response:
    choices = _form_choices(session, actor)
    if not choices["programme_choices"]:
        raise NotFound()
    programme = next(
        (v.programme for v in choices["programme_choices"] if str(v.programme.id) == form.get("programme")),
        choices["programme_choices"][0].programme,
    )
    try:
        fields = forms.fields_from_form(form, ZoneInfo(programme.timezone))
        fields.pop("note", None)
        data = parse(ChallengeCreate, fields)
        view = service.create_challenge(session, actor, data)
    except Invalid as exc:
        discard_attempt(session)
        return form_error(
            request, "challenges/form.html", form, forms.form_errors(exc, form), {**choices, "view": None}
        )
    flash(request, "The draft challenge is saved. Add its datasets, then publish it.")
    return redirect(request, challenge_path(view))


@router.get("/challenges/{challenge_id}/edit", response_class=HTMLResponse)
def challenge_edit(request: Request, session: SessionDep, actor: SignedInDep, challenge_id: RecordId) -> Response:
    view = service.get_editable_challenge(session, actor, challenge_id)
    return render(
        request,
        "challenges/form.html",
        {**_form_choices(session, actor), "view": view, "form": forms.form_from_view(view, view.ip_terms)},
    )


@router.post("/challenges/{challenge_id}/edit", response_class=HTMLResponse)
def challenge_update(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, challenge_id: RecordId
) -> Response:
    view = service.get_editable_challenge(session, actor, challenge_id)
    revision = whole_number(form.get("revision", ""))
    try:
        fields = forms.fields_from_form(form, ZoneInfo(view.programme.timezone))
        fields.pop("programme", None)
        fields.pop("lead_sponsor", None)
        view = service.update_challenge(
            session, actor, view, parse(ChallengeUpdate, fields), expected_revision=revision
        )
    except PreconditionFailed as exc:
        discard_attempt(session)
        current = service.get_challenge(session, actor, challenge_id)
        error = Invalid({}, detail=exc.detail)
        return form_error(
            request,
            "challenges/form.html",
            form,
            error,
            {
                **_form_choices(session, actor),
                "view": current,
                "conflict": forms.form_from_view(current, current.ip_terms),
            },
        )
    except Invalid as exc:
        discard_attempt(session)
        return form_error(
            request,
            "challenges/form.html",
            form,
            forms.form_errors(exc, form),
            {**_form_choices(session, actor), "view": view},
        )
    flash(request, "The challenge is saved.")
    return redirect(request, challenge_path(view))


# ---- the image ------------------------------------------------------------------------------------------


@router.post("/challenges/{challenge_id}/image", response_class=HTMLResponse)
@streamed_upload
async def challenge_image_upload(
    request: Request, session: SessionDep, actor: SignedInDep, challenge_id: RecordId
) -> Response:
    """The streamed image upload. The CSRF token comes in the query string, never in the body, so that the
    CSRF check does not parse (and buffer) the upload."""

    def done(view: service.ChallengeView) -> Response:
        flash(request, "The image is saved.")
        return redirect(request, challenge_path(view))

    def refused(refusal: Refusal) -> Response:
        view = service.get_challenge(session, actor, challenge_id)
        return _challenge_page(
            request,
            session,
            actor,
            view,
            status_code=refusal.status,
            image_error=refusal.message,
            image_error_vars=refusal.variables,
        )

    return await upload_route(
        request, session, partial(service.receive_image, session, actor, challenge_id), done=done, refused=refused
    )


@router.post("/challenges/{challenge_id}/image/remove")
def challenge_image_remove(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, challenge_id: RecordId
) -> Response:
    view = service.get_challenge(session, actor, challenge_id)
    service.check_image_editor(actor, view)
    require_confirmation(form)
    service.remove_image(session, actor, view)
    flash(request, "The image is removed.")
    return redirect(request, challenge_path(view))


@router.get("/challenges/{challenge_id}/image")
def challenge_image(session: SessionDep, actor: ActorDep, challenge_id: RecordId) -> Response:
    """The image, inline, to whoever may see the challenge (a draft's image is a 404 to anyone but staff)."""
    view = service.get_challenge(session, actor, challenge_id)
    path = service.image_path(view)
    file_type = file_types.image_type_of(path)
    if file_type is None:
        raise NotFound()
    return web_files.image_response(path, f"challenge-{challenge_id}", file_type, public=is_public(view.challenge))


@router.post("/challenges/{challenge_id}/publish", response_class=HTMLResponse)
def challenge_publish(request: Request, session: SessionDep, actor: SignedInDep, challenge_id: RecordId) -> Response:
    view = service.get_challenge(session, actor, challenge_id)
    try:
        view = service.publish_challenge(session, actor, view)
    except Invalid as exc:
        discard_attempt(session)
        flash(request, exc.detail, "error")
        return redirect(request, challenge_path(view))
    flash(request, "The challenge is published.")
    return redirect(request, challenge_path(view))


@router.post("/challenges/{challenge_id}/delete")
def challenge_delete(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, challenge_id: RecordId
) -> Response:
    view = service.get_editable_challenge(session, actor, challenge_id)
    require_confirmation(form)
    programme = view.programme.slug
    service.delete_draft(session, actor, view)
    flash(request, "The draft “%(title)s” is deleted.", "info", title=view.challenge.title)
    return redirect(request, f"/programmes/{programme}")


@router.post("/challenges/{challenge_id}/status")
def challenge_status(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, challenge_id: RecordId
) -> Response:
    view = service.get_challenge(session, actor, challenge_id)
    wanted = str(form.get("status", ""))
    view = service.set_final_status(session, actor, view, wanted)
    flash(request, "The challenge is now %(status)s.", status=wanted)
    return redirect(request, challenge_path(view))


@router.post("/challenges/{challenge_id}/follow")
def challenge_follow(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, challenge_id: RecordId
) -> Response:
    view = service.get_challenge(session, actor, challenge_id)
    follow = form.get("follow") != "false"
    service.set_following(session, actor, view, follow)
    flash(
        request,
        "You follow this challenge: answers to questions will reach you by email."
        if follow
        else "You no longer follow this challenge.",
        "info",
    )
    return redirect(request, challenge_path(view) + "#qa")


@router.post("/challenges/{challenge_id}/questions", response_class=HTMLResponse)
def question_ask(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, challenge_id: RecordId
) -> Response:
    view = service.get_challenge(session, actor, challenge_id)
    try:
        service.ask_question(session, actor, view, parse(QuestionCreate, form))
    except Invalid as exc:
        discard_attempt(session)
        return _challenge_page(
            request, session, actor, view, form=form, errors=exc.errors, error_vars=exc.field_variables
        )
    flash(request, "Your question is sent. Its answer will be published here for everyone, without your name.")
    return redirect(request, challenge_path(view) + "#qa")


@router.post("/questions/{question_id}/answer", response_class=HTMLResponse)
def question_answer(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, question_id: RecordId
) -> Response:
    question, view = service.get_question(session, actor, question_id)
    try:
        service.answer_question(session, actor, question_id, parse(AnswerCreate, form))
    except Invalid as exc:
        discard_attempt(session)
        return _challenge_page(
            request,
            session,
            actor,
            view,
            form=form,
            errors={f"answer-{question.id}": exc.errors.get("answer", "This field is required.")},
        )
    flash(request, "The answer is published.")
    return redirect(request, challenge_path(view) + f"#q-{question.id}")
