"""/api/v1 endpoints of datasets (API.md): list/create per challenge, read, edit, upload, download, package."""

from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import FileResponse, JSONResponse

from app.api.deps import ApiActor, WriteActor, api_url
from app.api.pagination import Cursor, Limit, Page, paginate
from app.challenges import service as challenges
from app.config import site_url
from app.datasets import packages, service
from app.datasets.models import DatasetFile
from app.datasets.schemas import DatasetCreate, DatasetPublic, DatasetUpdate, FilePublic, SchemaFieldPublic
from app.datasets.service import DatasetView
from app.db import SessionDep
from app.security.bodylimit import streamed_upload, upload_body
from app.validation import RecordId
from app.web import files as web_files

router = APIRouter()


def file_public(request: Request, file: DatasetFile) -> FilePublic:
    base = f"/datasets/{file.dataset_id}/files/{file.id}"
    return FilePublic(
        id=file.id or 0,
        name=file.name,
        size=file.size,
        sha256=file.sha256,
        media_type=file.media_type,
        version=file.version,
        url=api_url(request, base),
        download_url=api_url(request, base + "/download"),
        row_count=file.row_count,
        report=file.report,
        created_at=file.created_at,
        updated_at=file.created_at,
    )


def public(request: Request, view: DatasetView) -> DatasetPublic:
    d = view.dataset
    return DatasetPublic(  # type: ignore[call-arg]  # `schema` is the alias of `schema_`
        id=d.id or 0,
        url=api_url(request, f"/datasets/{d.id}"),
        html_url=site_url() + f"/datasets/{d.id}",
        challenge=d.challenge_id,
        owner=d.owner_id,
        title=d.title,
        description=d.description,
        licence=d.licence,
        access=d.access,  # type: ignore[arg-type]
        synthetic=d.synthetic,
        files=[file_public(request, f) for f in view.files],
        versions=[file_public(request, f) for f in sorted(view.versions, key=lambda f: (f.name, -f.version))],
        schema=[SchemaFieldPublic(**spec) for spec in view.schema],
        datapackage_url=api_url(request, f"/datasets/{d.id}/datapackage.json"),
        created_at=d.created_at,
        updated_at=d.updated_at,
    )


@router.get(
    "/challenges/{challenge_id}/datasets",
    response_model=Page[DatasetPublic],
    summary="Datasets of a challenge the caller may access",
)
def dataset_list(
    request: Request,
    session: SessionDep,
    actor: ApiActor,
    challenge_id: RecordId,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DatasetPublic]:
    view = challenges.get_challenge(session, actor, challenge_id)
    items = [public(request, v) for v in service.list_datasets(session, actor, view)]
    return paginate(request, items, limit=limit, cursor=cursor)


@router.post(
    "/challenges/{challenge_id}/datasets",
    response_model=DatasetPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Add a dataset to a challenge (its sponsors and operator)",
)
def dataset_create(
    request: Request,
    response: Response,
    session: SessionDep,
    actor: WriteActor,
    challenge_id: RecordId,
    data: DatasetCreate,
) -> DatasetPublic:
    challenge = challenges.get_challenge(session, actor, challenge_id)
    view = service.create_dataset(session, actor, challenge, data)
    response.headers["Location"] = api_url(request, f"/datasets/{view.dataset.id}")
    return public(request, view)


@router.get("/datasets/{dataset_id}", response_model=DatasetPublic, summary="One dataset with its files and schema")
def dataset_get(request: Request, session: SessionDep, actor: ApiActor, dataset_id: RecordId) -> DatasetPublic:
    return public(request, service.get_dataset(session, actor, dataset_id))


@router.patch(
    "/datasets/{dataset_id}",
    response_model=DatasetPublic,
    summary="Edit a dataset; `schema` sets the description and unit of the named fields (data dictionary)",
)
def dataset_patch(
    request: Request, session: SessionDep, actor: WriteActor, dataset_id: RecordId, data: DatasetUpdate
) -> DatasetPublic:
    view = service.get_dataset(session, actor, dataset_id)
    return public(request, service.update_dataset(session, actor, view, data))


UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post(
    "/datasets/{dataset_id}/files",
    response_model=FilePublic,
    status_code=status.HTTP_201_CREATED,
    summary="Upload a file (multipart field `file`), streamed; a known name makes a new version",
    openapi_extra=UPLOAD_BODY,
    responses={
        413: {"description": "The file is over the size limit; nothing was stored"},
        415: {"description": "A refused type (by extension or content); nothing was stored"},
    },
)
@streamed_upload
async def file_upload(
    request: Request, response: Response, session: SessionDep, actor: WriteActor, dataset_id: RecordId
) -> FilePublic:
    stored = await service.receive_file(session, actor, dataset_id, upload_body(request, session))
    response.headers["Location"] = api_url(request, f"/datasets/{dataset_id}/files/{stored.id}")
    return file_public(request, stored)


@router.get("/datasets/{dataset_id}/files/{file_id}", response_model=FilePublic, summary="One version of a file")
def file_get(
    request: Request, session: SessionDep, actor: ApiActor, dataset_id: RecordId, file_id: RecordId
) -> FilePublic:
    _, found = service.get_file(session, actor, dataset_id, file_id)
    return file_public(request, found)


@router.get(
    "/datasets/{dataset_id}/files/{file_id}/download",
    response_class=FileResponse,
    summary="The file's bytes (single HTTP ranges supported), with Content-Disposition set by the server",
    responses={206: {"description": "Partial content"}, 416: {"description": "Range not satisfiable"}},
)
def file_download(session: SessionDep, actor: ApiActor, dataset_id: RecordId, file_id: RecordId) -> Response:
    found, path = service.download_file(session, actor, dataset_id, file_id)
    return web_files.download_response(path, found.name, found.media_type)


@router.delete(
    "/datasets/{dataset_id}/files/{file_id}",
    status_code=204,
    summary="Remove a file (version): deleted if nobody downloaded it, else kept for those who did",
    responses={403: {"description": "Not an editor of the dataset"}},
)
def file_remove(session: SessionDep, actor: WriteActor, dataset_id: RecordId, file_id: RecordId) -> Response:
    service.remove_file(session, actor, dataset_id, file_id)
    return Response(status_code=204)


@router.get(
    "/datasets/{dataset_id}/datapackage.json",
    summary="The dataset as a Frictionless Data Package descriptor",
    response_model=dict[str, Any],
)
def dataset_datapackage(request: Request, session: SessionDep, actor: ApiActor, dataset_id: RecordId) -> JSONResponse:
    view = service.get_dataset(session, actor, dataset_id)
    base = site_url()
    descriptor = packages.datapackage(
        view, base_url=base, download_url=lambda f: api_url(request, f"/datasets/{f.dataset_id}/files/{f.id}/download")
    )
    return JSONResponse(descriptor)
