"""HTML pages of datasets: the dataset page, new/edit forms, streamed upload, dictionary, downloads, catalogue."""

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlmodel import Session
from starlette.responses import Response

from app.challenges import service as challenges
from app.config import site_url
from app.datasets import catalogue as dcat
from app.datasets import packages, service
from app.datasets.models import DatasetFile
from app.datasets.schemas import ACCESS_LABELS, LICENCES, DatasetCreate, DatasetUpdate, DictionaryEntry
from app.datasets.service import DatasetView
from app.db import SessionDep, discard_attempt
from app.errors import Invalid, NotFound
from app.files import staging
from app.files import types as file_types
from app.security.actor import Actor
from app.security.bodylimit import streamed_upload
from app.validation import InvalidInput, RecordId, parse
from app.web import files as web_files
from app.web.confirm import require_confirmation
from app.web.deps import ActorDep, FormDep, SignedInDep
from app.web.flash import flash
from app.web.forms import form_error
from app.web.templating import redirect, render
from app.web.uploads import Refusal, upload_route

router = APIRouter()


def dataset_path(dataset_id: int | None) -> str:
    return f"/datasets/{dataset_id}"


def _choices() -> dict[str, Any]:
    return {
        "licence_choices": [(key, title) for key, (title, _) in LICENCES.items()],
        "access_choices": list(ACCESS_LABELS.items()),
    }


def _page(request: Request, view: DatasetView, *, status_code: int = 200, **extra: Any) -> HTMLResponse:
    context: dict[str, Any] = {
        "view": view,
        "d": view.dataset,
        "challenge": view.challenge,
        "licences": LICENCES,
        "access_labels": ACCESS_LABELS,
        "max_upload": file_types.human_size(staging.max_upload_bytes()),
        "accept": ",".join(sorted(file_types.BY_EXTENSION)),
        "upload_error": None,
        "upload_error_vars": {},
        **extra,
    }
    return render(request, "datasets/page.html", context, status_code=status_code)


@router.get("/datasets/{dataset_id}", response_class=HTMLResponse)
def dataset_page(request: Request, session: SessionDep, actor: ActorDep, dataset_id: RecordId) -> Response:
    return _page(request, service.get_dataset(session, actor, dataset_id))


# ---- new and edit -----------------------------------------------------------------------------------


def _challenge_for_new(session: Session, actor: Actor, challenge_id: int) -> challenges.ChallengeView:
    view = challenges.get_challenge(session, actor, challenge_id)
    if not service.may_add_dataset(actor, view):
        raise NotFound()
    return view


@router.get("/challenges/{challenge_id}/datasets/new", response_class=HTMLResponse)
def dataset_new(request: Request, session: SessionDep, actor: SignedInDep, challenge_id: RecordId) -> Response:
    challenge = _challenge_for_new(session, actor, challenge_id)
    return render(
        request,
        "datasets/form.html",
        {**_choices(), "challenge": challenge, "view": None, "form": {"licence": "CC-BY-4.0", "access": "public"}},
    )


@router.post("/challenges/{challenge_id}/datasets/new", response_class=HTMLResponse)
def dataset_create(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, challenge_id: RecordId
) -> Response:
    challenge = _challenge_for_new(session, actor, challenge_id)
    try:
        data = parse(
            DatasetCreate, {k: form.get(k) for k in ("title", "description", "licence", "access") if k in form}
        )
        view = service.create_dataset(session, actor, challenge, data)
    except Invalid as exc:
        discard_attempt(session)
        return form_error(
            request, "datasets/form.html", form, exc, {**_choices(), "challenge": challenge, "view": None}
        )
    flash(request, "The dataset is created. Upload its files below.")
    return redirect(request, dataset_path(view.dataset.id))


@router.get("/datasets/{dataset_id}/edit", response_class=HTMLResponse)
def dataset_edit(request: Request, session: SessionDep, actor: SignedInDep, dataset_id: RecordId) -> Response:
    view = service.get_editable_dataset(session, actor, dataset_id)
    d = view.dataset
    form = {"title": d.title, "description": d.description, "licence": d.licence, "access": d.access}
    return render(
        request, "datasets/form.html", {**_choices(), "challenge": view.challenge, "view": view, "form": form}
    )


@router.post("/datasets/{dataset_id}/edit", response_class=HTMLResponse)
def dataset_update(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, dataset_id: RecordId
) -> Response:
    view = service.get_editable_dataset(session, actor, dataset_id)
    try:
        data = parse(
            DatasetUpdate, {k: form.get(k) for k in ("title", "description", "licence", "access") if k in form}
        )
        service.update_dataset(session, actor, view, data)
    except Invalid as exc:
        discard_attempt(session)
        return form_error(
            request, "datasets/form.html", form, exc, {**_choices(), "challenge": view.challenge, "view": view}
        )
    flash(request, "The dataset is saved.")
    return redirect(request, dataset_path(dataset_id))


# ---- files ------------------------------------------------------------------------------------------


@router.post("/datasets/{dataset_id}/files", response_class=HTMLResponse)
@streamed_upload
async def file_upload(request: Request, session: SessionDep, actor: SignedInDep, dataset_id: RecordId) -> Response:
    """The streamed upload. The CSRF token comes in the X-CSRF-Token header (upload.js) or the query string
    (plain form), never in the body, so that the CSRF check does not parse (and buffer) the upload."""

    def done(stored: DatasetFile) -> Response:
        flash(request, "The file %(name)s is uploaded (version %(version)s).", name=stored.name, version=stored.version)
        return redirect(request, dataset_path(dataset_id) + "#files")

    def refused(refusal: Refusal) -> Response:
        view = service.get_dataset(session, actor, dataset_id)
        return _page(
            request, view, status_code=refusal.status, upload_error=refusal.message, upload_error_vars=refusal.variables
        )

    return await upload_route(
        request, session, partial(service.receive_file, session, actor, dataset_id), done=done, refused=refused
    )


@router.post("/datasets/{dataset_id}/dictionary", response_class=HTMLResponse)
def dictionary_update(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, dataset_id: RecordId
) -> Response:
    view = service.get_dataset(session, actor, dataset_id)
    service.check_editable(view)  # before reading the form: a non-editor gets 403, not a form error
    entries: list[dict[str, str]] = []
    index = 0
    while f"name_{index}" in form and index < 1000:
        entries.append(
            {
                "name": str(form[f"name_{index}"]),
                "description": str(form.get(f"description_{index}", "")),
                "unit": str(form.get(f"unit_{index}", "")),
            }
        )
        index += 1
    try:
        service.update_dictionary(session, actor, view, _dictionary_entries(entries))
    except Invalid as exc:
        discard_attempt(session)
        view = service.get_dataset(session, actor, dataset_id)
        errors = _on_dictionary_fields(exc)
        return _page(
            request,
            view,
            status_code=422,
            dictionary_form=form,
            dictionary_errors=errors.errors,
            dictionary_error_vars=errors.field_variables,
        )
    flash(request, "The data dictionary is saved.")
    return redirect(request, dataset_path(dataset_id) + "#schema")


def _dictionary_entries(entries: list[dict[str, str]]) -> list[DictionaryEntry]:
    """The dictionary's rows, every bad one reported on its own input (description_3, unit_0)."""
    parsed: list[DictionaryEntry] = []
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    for index, entry in enumerate(entries):
        try:
            parsed.append(parse(DictionaryEntry, entry))
        except InvalidInput as exc:
            errors.update({f"{name}_{index}": (exc.errors[name], exc.field_variables[name]) for name in exc.errors})
    if errors:
        raise InvalidInput(errors)
    return parsed


def _on_dictionary_fields(error: Invalid) -> InvalidInput:
    """The service's errors on schema.3.description shown on the form's description_3."""
    variables = error.field_variables
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, message in error.errors.items():
        parts = name.split(".")
        key = f"{parts[2]}_{parts[1]}" if len(parts) == 3 and parts[0] == "schema" and parts[1].isdigit() else name
        errors.setdefault(key, (message, variables.get(name, {})))
    return InvalidInput(errors)


@router.get("/datasets/{dataset_id}/files/{file_id}/download")
def file_download(session: SessionDep, actor: ActorDep, dataset_id: RecordId, file_id: RecordId) -> Response:
    found, path = service.download_file(session, actor, dataset_id, file_id)
    return web_files.download_response(path, found.name, found.media_type)


@router.post("/datasets/{dataset_id}/files/{file_id}/remove")
def file_remove(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, dataset_id: RecordId, file_id: RecordId
) -> Response:
    service.check_editable(service.get_dataset(session, actor, dataset_id))
    require_confirmation(form)
    kept = service.remove_file(session, actor, dataset_id, file_id)
    if kept:
        flash(
            request,
            "The file is removed from the list. It was already downloaded, so it is kept for those who have it.",
            "info",
        )
    else:
        flash(request, "The file is deleted.", "info")
    return redirect(request, dataset_path(dataset_id) + "#files")


@router.get("/datasets/{dataset_id}/datapackage.json")
def dataset_datapackage(request: Request, session: SessionDep, actor: ActorDep, dataset_id: RecordId) -> Response:
    view = service.get_dataset(session, actor, dataset_id)
    base = site_url()
    descriptor = packages.datapackage(
        view, base_url=base, download_url=lambda f: f"{base}/datasets/{f.dataset_id}/files/{f.id}/download"
    )
    return JSONResponse(descriptor, headers={"Cache-Control": "private, no-cache"})


@router.get("/catalogue.jsonld")
def catalogue_jsonld(request: Request, session: SessionDep) -> Response:
    body = dcat.catalogue(session, site_url())
    return JSONResponse(body, media_type="application/ld+json", headers={"Cache-Control": "public, max-age=300"})
