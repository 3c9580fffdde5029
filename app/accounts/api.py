"""/api/v1 endpoints of the accounts domain: me, API tokens, organisations and invitations."""

from fastapi import APIRouter, Request, Response, status

from app.accounts import service, tokens
from app.accounts.models import ApiToken, Invitation, Organisation
from app.accounts.schemas import (
    InvitationCreate,
    InvitationPublic,
    MembershipPublic,
    MePublic,
    OrganisationCreate,
    OrganisationPublic,
    OrgKindName,
    TokenCreate,
    TokenCreated,
    TokenPublic,
)
from app.api.deps import ApiActor, WriteActor, api_url
from app.api.pagination import Cursor, Limit, Page, paginate
from app.db import SessionDep
from app.validation import RecordId

router = APIRouter()


def _token_public(request: Request, token: ApiToken) -> TokenPublic:
    return TokenPublic(
        id=token.id or 0,
        url=api_url(request, f"/tokens/{token.id}"),
        name=token.name,
        prefix=token.prefix,
        scopes=token.scope_list,  # type: ignore[arg-type]
        created_at=token.created_at,
        updated_at=token.revoked_at or token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


def _organisation_public(request: Request, organisation: Organisation) -> OrganisationPublic:
    return OrganisationPublic(url=api_url(request, f"/organisations/{organisation.id}"), **organisation.model_dump())


def _invitation_public(request: Request, invitation: Invitation, link: str | None = None) -> InvitationPublic:
    return InvitationPublic(
        id=invitation.id or 0,
        url=api_url(request, f"/invitations/{invitation.id}"),
        email=invitation.email,
        organisation_id=invitation.organisation_id,
        role=invitation.role,  # type: ignore[arg-type]
        created_at=invitation.created_at,
        updated_at=invitation.accepted_at or invitation.revoked_at or invitation.created_at,
        expires_at=invitation.expires_at,
        accepted_at=invitation.accepted_at,
        link=link,
    )


@router.get("/me", response_model=MePublic, summary="The caller, their organisations and roles")
def me(request: Request, session: SessionDep, actor: ApiActor) -> MePublic:
    user = actor.user
    assert user is not None
    organisations = {o.id: o for o in service.list_organisations(session, actor)}
    memberships = [
        MembershipPublic(
            organisation_id=m.organisation_id,
            organisation_slug=organisations[m.organisation_id].slug,
            organisation_name=organisations[m.organisation_id].name,
            kind=m.kind,
            role=m.role,
        )  # type: ignore[arg-type]
        for m in actor.memberships
        if m.organisation_id in organisations
    ]
    return MePublic(
        id=user.id or 0,
        url=api_url(request, "/me"),
        email=user.email,
        name=user.name,
        preferred_language=user.preferred_language,
        is_platform_admin=user.is_platform_admin,
        organisations=memberships,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


@router.get("/tokens", response_model=Page[TokenPublic], summary="The caller's API tokens")
def token_list(
    request: Request, session: SessionDep, actor: ApiActor, limit: Limit = 50, cursor: Cursor = None
) -> Page[TokenPublic]:
    items = [_token_public(request, t) for t in tokens.list_tokens(session, actor)]
    return paginate(request, items, limit=limit, cursor=cursor)


@router.post(
    "/tokens",
    response_model=TokenCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Create a token; the secret is in this answer only",
)
def token_create(request: Request, session: SessionDep, actor: WriteActor, data: TokenCreate) -> TokenCreated:
    token, secret = tokens.create_token(session, actor, data)
    return TokenCreated(**_token_public(request, token).model_dump(), token=secret)


@router.get("/tokens/{token_id}", response_model=TokenPublic, summary="One of the caller's tokens")
def token_get(request: Request, session: SessionDep, actor: ApiActor, token_id: RecordId) -> TokenPublic:
    return _token_public(request, tokens.get_token(session, actor, token_id))


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke a token")
def token_revoke(session: SessionDep, actor: WriteActor, token_id: RecordId) -> Response:
    tokens.revoke_token(session, actor, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/organisations",
    response_model=Page[OrganisationPublic],
    summary="Organisations the caller may see: its own; operator staff also the city, partner and operator ones",
)
def organisation_list(
    request: Request,
    session: SessionDep,
    actor: ApiActor,
    limit: Limit = 50,
    cursor: Cursor = None,
    kind: OrgKindName | None = None,
) -> Page[OrganisationPublic]:
    rows = service.list_organisations(session, actor)
    items = [_organisation_public(request, o) for o in rows if kind is None or o.kind == kind]
    return paginate(request, items, limit=limit, cursor=cursor)


@router.post(
    "/organisations",
    response_model=OrganisationPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Create an organisation (operator staff, platform admins)",
)
def organisation_create(
    request: Request, session: SessionDep, actor: WriteActor, data: OrganisationCreate
) -> OrganisationPublic:
    return _organisation_public(request, service.create_organisation(session, actor, data))


@router.get("/organisations/{organisation_id}", response_model=OrganisationPublic, summary="One organisation")
def organisation_get(
    request: Request, session: SessionDep, actor: ApiActor, organisation_id: RecordId
) -> OrganisationPublic:
    return _organisation_public(request, service.get_organisation(session, actor, organisation_id))


@router.post(
    "/organisations/{organisation_id}/invitations",
    response_model=InvitationPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Invite someone to join the organisation",
)
def organisation_invite(
    request: Request,
    session: SessionDep,
    actor: WriteActor,
    organisation_id: RecordId,
    data: InvitationCreate,
) -> InvitationPublic:
    organisation = service.get_organisation(session, actor, organisation_id)
    invitation, link = service.invite(session, actor, organisation, data)
    return _invitation_public(request, invitation, link)
