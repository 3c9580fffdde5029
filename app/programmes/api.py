"""/api/v1 endpoints of programmes and their phase calendar (API.md), on the same service as the pages."""

from fastapi import APIRouter, Request, Response, status

from app.api.deps import ApiActor, WriteActor, api_url
from app.api.pagination import Cursor, Limit, Page, paginate
from app.db import SessionDep, utcnow
from app.programmes import service
from app.programmes.models import PhaseKind
from app.programmes.schemas import PhasePublic, ProgrammeCreate, ProgrammePublic, ProgrammeUpdate
from app.programmes.service import ProgrammeView
from app.validation import RecordId

router = APIRouter()


def public(request: Request, view: ProgrammeView) -> ProgrammePublic:
    p = view.programme
    current = view.current_phase(utcnow())
    return ProgrammePublic(
        id=p.id or 0,
        url=api_url(request, f"/programmes/{p.id}"),
        html_url=str(request.base_url).rstrip("/") + f"/programmes/{p.slug}",
        slug=p.slug,
        name=p.name,
        description=p.description,
        operator=p.operator_id,
        city=p.city_id,
        partners=sorted(view.partner_ids),
        timezone=p.timezone,
        current_phase=PhaseKind(current.kind) if current else None,
        phases=[
            PhasePublic(kind=PhaseKind(ph.kind), starts_on=ph.starts_on, ends_on=ph.ends_on, current=ph is current)
            for ph in view.phases
        ],
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


@router.get("/programmes", response_model=Page[ProgrammePublic], summary="Programmes with their phase calendar")
def programme_list(
    request: Request, session: SessionDep, actor: ApiActor, limit: Limit = 50, cursor: Cursor = None
) -> Page[ProgrammePublic]:
    views = service.list_programmes(session, actor)
    return paginate(request, [public(request, v) for v in views], limit=limit, cursor=cursor)


@router.post(
    "/programmes",
    response_model=ProgrammePublic,
    status_code=status.HTTP_201_CREATED,
    summary="Create a programme (operator staff; platform admins name the operator)",
)
def programme_create(
    request: Request, response: Response, session: SessionDep, actor: WriteActor, data: ProgrammeCreate
) -> ProgrammePublic:
    view = service.create_programme(session, actor, data)
    response.headers["Location"] = api_url(request, f"/programmes/{view.programme.id}")
    return public(request, view)


@router.get("/programmes/{programme_id}", response_model=ProgrammePublic, summary="One programme")
def programme_get(request: Request, session: SessionDep, actor: ApiActor, programme_id: RecordId) -> ProgrammePublic:
    return public(request, service.get_programme(session, actor, programme_id))


@router.patch(
    "/programmes/{programme_id}",
    response_model=ProgrammePublic,
    summary="Edit a programme (its operator's staff); `partners` and `phases` replace the whole list",
)
def programme_patch(
    request: Request, session: SessionDep, actor: WriteActor, programme_id: RecordId, data: ProgrammeUpdate
) -> ProgrammePublic:
    view = service.get_programme(session, actor, programme_id)
    return public(request, service.update_programme(session, actor, view, data))
