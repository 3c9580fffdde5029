"""HTML pages of startup profiles: the edit form and the logo (the profile shows on the organisation page)."""

import re
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session
from starlette.responses import Response

from app.accounts.models import Organisation
from app.db import SessionDep, discard_attempt
from app.errors import Invalid, NotFound
from app.files import types as file_types
from app.security.actor import Actor
from app.security.bodylimit import streamed_upload
from app.startups import permissions as can
from app.startups import service
from app.startups.models import StartupProfile
from app.startups.schemas import ProfileUpdate
from app.validation import parse
from app.web import files as web_files
from app.web.deps import FormDep, SignedInDep
from app.web.flash import flash
from app.web.forms import form_error
from app.web.templating import redirect, render
from app.web.uploads import Refusal, upload_route

router = APIRouter()

FIELDS = ("name", "legal_form", "country", "city", "founding_year", "team_size", "website", "description")


def _form(organisation: Organisation, profile: StartupProfile) -> dict[str, Any]:
    return {
        "name": organisation.name,
        "country": organisation.country or "",
        "city": organisation.city or "",
        "website": organisation.website or "",
        "legal_form": profile.legal_form,
        "founding_year": str(profile.founding_year or ""),
        "team_size": str(profile.team_size or ""),
        "description": profile.description,
        "sectors": ", ".join(profile.sectors),
        "registration_number": profile.registration_number,
    }


def _editable(session: Session, actor: Actor, slug: str) -> tuple[Organisation, StartupProfile]:
    organisation, profile = service.get_profile(session, actor, slug)
    if not can.can_edit_profile(actor, organisation):
        raise NotFound()
    return organisation, profile


def _context(organisation: Organisation, profile: StartupProfile, **extra: Any) -> dict[str, Any]:
    return {
        "organisation": organisation,
        "profile": profile,
        "logo_error": None,
        "logo_error_vars": {},
        "logo_limit": file_types.human_size(file_types.MAX_IMAGE_BYTES),
        **extra,
    }


@router.get("/organisations/{slug}/profile", response_class=HTMLResponse)
def profile_edit(request: Request, session: SessionDep, actor: SignedInDep, slug: str) -> Response:
    organisation, profile = _editable(session, actor, slug)
    return render(
        request, "startups/profile_form.html", _context(organisation, profile, form=_form(organisation, profile))
    )


@router.post("/organisations/{slug}/profile", response_class=HTMLResponse)
def profile_update(request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, slug: str) -> Response:
    organisation, profile = _editable(session, actor, slug)
    data: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in (*FIELDS, "registration_number")}
    for name in ("founding_year", "team_size"):
        data[name] = data[name] or None
    data["country"] = data["country"].upper()
    data["sectors"] = [
        s.strip() for s in re.split("[,،]", str(form.get("sectors", ""))) if s.strip()
    ]  # Latin or Arabic
    try:
        service.update_profile(session, actor, organisation, profile, parse(ProfileUpdate, data))
    except Invalid as exc:
        discard_attempt(session)
        organisation, profile = _editable(session, actor, slug)
        if any(k.startswith("sectors") for k in exc.errors):
            exc.errors["sectors"] = "Give at most 20 sectors of at most 60 characters each."
        return form_error(request, "startups/profile_form.html", form, exc, _context(organisation, profile))
    flash(request, "The profile is saved.")
    return redirect(request, f"/organisations/{organisation.slug}")


@router.post("/organisations/{slug}/logo", response_class=HTMLResponse)
@streamed_upload
async def logo_upload(request: Request, session: SessionDep, actor: SignedInDep, slug: str) -> Response:
    """The streamed logo upload; the CSRF token comes in the query string, never in the body."""

    def done(organisation: Organisation) -> Response:
        flash(request, "The logo is saved.")
        return redirect(request, f"/organisations/{organisation.slug}/profile")

    def refused(refusal: Refusal) -> Response:
        organisation, profile = _editable(session, actor, slug)
        context = _context(
            organisation,
            profile,
            form=_form(organisation, profile),
            logo_error=refusal.message,
            logo_error_vars=refusal.variables,
        )
        return render(request, "startups/profile_form.html", context, status_code=refusal.status)

    return await upload_route(
        request, session, partial(service.receive_logo, session, actor, slug), done=done, refused=refused
    )


@router.get("/organisations/{slug}/logo")
def logo(session: SessionDep, actor: SignedInDep, slug: str) -> Response:
    organisation, path = service.get_logo(session, actor, slug)
    file_type = file_types.image_type_of(path)
    if file_type is None:
        raise NotFound()
    return web_files.image_response(path, f"logo-{organisation.slug}", file_type, public=False)
