"""/api/v1 endpoints of startup profiles, on the same service as the pages."""

from fastapi import APIRouter, Request

from app.accounts.models import Organisation
from app.api.deps import ApiActor, WriteActor, api_url
from app.db import SessionDep
from app.startups import service
from app.startups.models import StartupProfile
from app.startups.schemas import ProfilePublic, ProfileUpdate
from app.validation import RecordId

router = APIRouter()


def public(request: Request, organisation: Organisation, profile: StartupProfile) -> ProfilePublic:
    base = str(request.base_url).rstrip("/")
    return ProfilePublic(
        organisation=organisation.id or 0,
        url=api_url(request, f"/organisations/{organisation.id}/profile"),
        name=organisation.name,
        slug=organisation.slug,
        legal_form=profile.legal_form,
        country=organisation.country or "",
        city=organisation.city or "",
        founding_year=profile.founding_year,
        team_size=profile.team_size,
        website=organisation.website or "",
        description=profile.description,
        sectors=profile.sectors,
        registration_number=profile.registration_number,
        logo_url=f"{base}/organisations/{organisation.slug}/logo" if profile.logo_key else None,
        updated_at=profile.updated_at,
    )


@router.get("/organisations/{organisation_id}/profile", response_model=ProfilePublic, summary="A startup's profile")
def profile_get(request: Request, session: SessionDep, actor: ApiActor, organisation_id: RecordId) -> ProfilePublic:
    return public(request, *service.get_profile_by_id(session, actor, organisation_id))


@router.patch(
    "/organisations/{organisation_id}/profile",
    response_model=ProfilePublic,
    summary="Edit a startup's profile (its admins)",
)
def profile_patch(
    request: Request, session: SessionDep, actor: WriteActor, organisation_id: RecordId, data: ProfileUpdate
) -> ProfilePublic:
    organisation, profile = service.get_profile_by_id(session, actor, organisation_id)
    profile = service.update_profile(session, actor, organisation, profile, data)
    return public(request, organisation, profile)
