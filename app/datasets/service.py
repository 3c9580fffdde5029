"""Datasets: what sponsors share with a challenge — versioned files, inferred schema, data dictionary, previews.

Rules:
- A dataset belongs to a challenge (or to a sponsor's own catalogue when it has no challenge). Its staff are
  the challenge's staff (see app/challenges/permissions.py); they create datasets, edit them, upload files
  and edit the data dictionary when `can_upload_data` allows it (not on archived challenges).
- Who may know a dataset exists (anything else is a 404, on every face, downloads included):
  public → anyone; registered → anyone signed in; applicants → the challenge's staff and the members of
  startups with a submitted proposal to it (who accepted its terms); selected → the challenge's staff only
  until selection exists. A dataset of
  a draft challenge is seen by the challenge's staff only. An anonymous visitor sees the title and licence
  of a registered dataset on its challenge's page, and its own addresses ask them to sign in
  (permissions.needs_sign_in).
- Uploading a file with the name of an existing file makes its next version; older versions stay
  downloadable with their checksums.
- Downloads by anyone but the dataset's staff are recorded (who, the first time; visitors who are not
  signed in as one). Its editors remove a file (version) uploaded by mistake: one nobody downloaded is
  deleted, bytes and all; one somebody downloaded leaves the list but is kept — its record, its bytes and
  its checksum — and stays listed and downloadable for its staff and for those who downloaded it. Either
  way the audit log keeps its name, version and SHA-256. Removing the latest version makes the one
  before it current.
- `medina import` writes the datasets of a programme's files through import_dataset (no actor; the lead
  sponsor owns them); the same file name with the same content changes nothing.
- Tabular files (CSV; JSON and GeoJSON when they hold a table — GeoJSON features' properties as rows) are
  analysed with Frictionless when they are stored: schema, row count, a validation report over the first
  rows and a preview of the first 20 (app/datasets/analysis.py). The analysis is bounded in columns, cells,
  characters read and time, and never refuses an upload: where a bound stops it, the file's report says so.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.challenges import permissions as challenge_can
from app.challenges import service as challenges
from app.challenges.models import Challenge
from app.challenges.service import ChallengeView
from app.datasets import analysis as tabular
from app.datasets import permissions as can
from app.datasets.models import Access, Dataset, DatasetDownload, DatasetField, DatasetFile
from app.datasets.schemas import LICENCES, DatasetCreate, DatasetUpdate, DictionaryEntry
from app.db import after_commit, utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from app.files import staging, uploads
from app.files.multipart import ReceivedUpload
from app.files.uploads import UploadBody
from app.proposals import queries as proposal_queries
from app.security.actor import Actor

log = logging.getLogger(__name__)


@dataclass
class DatasetView:
    dataset: Dataset
    challenge: ChallengeView | None
    versions: list[DatasetFile] = field(default_factory=list)  # every version, by name then newest first
    dictionary: dict[str, DatasetField] = field(default_factory=dict)
    staff: bool = False
    may_edit: bool = False
    removed: list[DatasetFile] = field(default_factory=list)  # removed files the actor may still see

    @property
    def files(self) -> list[DatasetFile]:
        """The latest version of each file, by name."""
        latest: dict[str, DatasetFile] = {}
        for f in self.versions:
            if f.name not in latest or f.version > latest[f.name].version:
                latest[f.name] = f
        return sorted(latest.values(), key=lambda f: f.name.lower())

    def older_versions(self, name: str) -> list[DatasetFile]:
        mine = sorted((f for f in self.versions if f.name == name), key=lambda f: -f.version)
        return mine[1:]

    @property
    def schema(self) -> list[dict[str, str]]:
        """The fields of the latest tabular files (first seen wins) with the dictionary's description and
        unit; dictionary entries for fields no longer in any file are kept at the end."""
        seen: dict[str, dict[str, str]] = {}
        for f in self.files:
            for spec in f.schema_fields or []:
                name = str(spec.get("name", ""))
                if name and name not in seen:
                    seen[name] = {"name": name, "type": str(spec.get("type", "any"))}
        for name in self.dictionary:
            seen.setdefault(name, {"name": name, "type": "any"})
        for name, spec in seen.items():
            entry = self.dictionary.get(name)
            spec["description"] = entry.description if entry else ""
            spec["unit"] = entry.unit if entry else ""
        return list(seen.values())

    @property
    def is_public(self) -> bool:
        return can.is_harvestable(self.dataset, self.challenge.challenge if self.challenge else None)


# ---- loading ------------------------------------------------------------------------------------------


def _staff_and_editor(actor: Actor, dataset: Dataset, view: ChallengeView | None) -> tuple[bool, bool]:
    if view is None:
        staff = can.is_catalogue_staff(actor, dataset)
        return staff, staff
    staff = view.is_staff(actor)
    may_upload = challenge_can.can_upload_data(actor, view.challenge, view.programme, view.sponsor_ids)
    return staff, can.can_edit_dataset(actor, may_edit_challenge=may_upload, dataset=dataset)


def _load_files(session: Session, dataset_ids: Sequence[int]) -> dict[int, list[DatasetFile]]:
    """The files (versions) of these datasets that are listed: removed ones are not."""
    out: dict[int, list[DatasetFile]] = {i: [] for i in dataset_ids}
    if not dataset_ids:
        return out
    for f in session.exec(
        select(DatasetFile)
        .where(col(DatasetFile.dataset_id).in_(dataset_ids), col(DatasetFile.removed_at).is_(None))
        .order_by(col(DatasetFile.name), col(DatasetFile.version).desc())
    ):
        out[f.dataset_id].append(f)
    return out


def _removed_files(session: Session, actor: Actor, dataset_id: int, *, staff: bool) -> list[DatasetFile]:
    """The dataset's removed files that this actor may still see: all of them for its staff, those they
    downloaded for anyone else signed in."""
    query = select(DatasetFile).where(DatasetFile.dataset_id == dataset_id, col(DatasetFile.removed_at).is_not(None))
    if not staff:
        if not actor.is_authenticated:
            return []
        mine = select(DatasetDownload.file_id).where(DatasetDownload.user_id == actor.user_id)
        query = query.where(col(DatasetFile.id).in_(mine))
    return list(session.exec(query.order_by(col(DatasetFile.name), col(DatasetFile.version).desc())))


def _load_dictionary(session: Session, dataset_ids: Sequence[int]) -> dict[int, dict[str, DatasetField]]:
    out: dict[int, dict[str, DatasetField]] = {i: {} for i in dataset_ids}
    if not dataset_ids:
        return out
    for entry in session.exec(
        select(DatasetField).where(col(DatasetField.dataset_id).in_(dataset_ids)).order_by(col(DatasetField.id))
    ):
        out[entry.dataset_id][entry.name] = entry
    return out


def get_dataset(session: Session, actor: Actor, dataset_id: int) -> DatasetView:
    """One dataset, or NotFound when it does not exist or the actor may not know it exists."""
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound()
    challenge = challenges.get_challenge(session, actor, dataset.challenge_id) if dataset.challenge_id else None
    staff, may_edit = _staff_and_editor(actor, dataset, challenge)
    applicant = challenge is not None and proposal_queries.is_applicant(session, actor, challenge.challenge.id or 0)
    if not can.can_view_dataset(actor, dataset, staff=staff, applicant=applicant):
        if can.needs_sign_in(actor, dataset):
            raise Unauthenticated("Sign in to access this dataset.")
        raise NotFound()
    ident = dataset.id or 0
    return DatasetView(
        dataset,
        challenge,
        _load_files(session, [ident])[ident],
        _load_dictionary(session, [ident])[ident],
        staff=staff,
        may_edit=may_edit,
        removed=_removed_files(session, actor, ident, staff=staff),
    )


def list_datasets(session: Session, actor: Actor, challenge: ChallengeView) -> list[DatasetView]:
    """The challenge's datasets the actor may see, by title, with their files (constant query count)."""
    rows = session.exec(
        select(Dataset)
        .where(Dataset.challenge_id == challenge.challenge.id)
        .order_by(func.lower(Dataset.title), col(Dataset.id))
    ).all()
    visible: list[tuple[Dataset, bool, bool]] = []
    applicant = proposal_queries.is_applicant(session, actor, challenge.challenge.id or 0)
    for dataset in rows:
        staff, may_edit = _staff_and_editor(actor, dataset, challenge)
        if can.can_view_dataset(actor, dataset, staff=staff, applicant=applicant):
            visible.append((dataset, staff, may_edit))
    ids = [d.id or 0 for d, _, _ in visible]
    files = _load_files(session, ids)
    dictionaries = _load_dictionary(session, ids)
    return [
        DatasetView(d, challenge, files[d.id or 0], dictionaries[d.id or 0], staff=s, may_edit=m) for d, s, m in visible
    ]


def list_sign_in_datasets(session: Session, actor: Actor, challenge: ChallengeView) -> list[Dataset]:
    """The challenge's datasets that this anonymous visitor may see once signed in, by title (none for
    anyone signed in: they see those datasets in full)."""
    if actor.is_authenticated or not challenge_can.is_public(challenge.challenge):
        return []
    rows = session.exec(
        select(Dataset)
        .where(Dataset.challenge_id == challenge.challenge.id)
        .order_by(func.lower(Dataset.title), col(Dataset.id))
    ).all()
    return [d for d in rows if can.needs_sign_in(actor, d)]


def may_add_dataset(actor: Actor, challenge: ChallengeView) -> bool:
    return challenge_can.can_upload_data(actor, challenge.challenge, challenge.programme, challenge.sponsor_ids)


def challenge_datasets_context(session: Session, actor: Actor, challenge: ChallengeView) -> dict[str, Any]:
    """What templates/datasets/_challenge_datasets.html expects on the challenge page."""
    return {
        "datasets": list_datasets(session, actor, challenge),
        "sign_in_datasets": list_sign_in_datasets(session, actor, challenge),
        "may_upload": may_add_dataset(actor, challenge),
        "licences": LICENCES,
    }


# ---- writing ------------------------------------------------------------------------------------------


def create_dataset(session: Session, actor: Actor, challenge: ChallengeView, data: DatasetCreate) -> DatasetView:
    if not may_add_dataset(actor, challenge):
        raise Forbidden("Only the challenge's sponsors and the programme operator may add datasets.")
    # the actor's own sponsor organisation owns it; the lead sponsor when the actor is operator or admin
    lead = challenge.challenge.lead_sponsor_id
    mine = sorted(challenge.sponsor_ids & actor.organisation_ids())
    owner_id = lead if lead in mine or not mine else mine[0]
    dataset = Dataset(
        challenge_id=challenge.challenge.id,
        owner_id=owner_id,
        title=data.title,
        description=data.description,
        licence=data.licence,
        access=data.access,
        created_by_id=actor.user_id,
    )
    session.add(dataset)
    session.flush()
    audit.record(session, "dataset.created", actor=actor, target=("dataset", dataset.id))
    return get_dataset(session, actor, dataset.id or 0)


def check_editable(view: DatasetView) -> None:
    if not view.may_edit:
        raise Forbidden("Only the challenge's sponsors and the programme operator may change this dataset.")


def get_editable_dataset(session: Session, actor: Actor, dataset_id: int) -> DatasetView:
    """A dataset for its edit form: 404 for anyone who may not edit it (the form does not exist for them)."""
    view = get_dataset(session, actor, dataset_id)
    if not view.may_edit:
        raise NotFound()
    return view


def update_dataset(session: Session, actor: Actor, view: DatasetView, data: DatasetUpdate) -> DatasetView:
    check_editable(view)
    dataset = view.dataset
    changed = []
    for name in ("title", "description", "licence", "access"):
        value = getattr(data, name)
        if value is not None and value != getattr(dataset, name):
            setattr(dataset, name, value)
            changed.append(name)
    if data.schema_ is not None and _apply_dictionary(session, view, data.schema_):
        changed.append("schema")
    if not changed:
        return view
    dataset.updated_at = utcnow()
    session.add(dataset)
    session.flush()
    audit.record(session, "dataset.updated", actor=actor, target=("dataset", dataset.id), fields=changed)
    return get_dataset(session, actor, dataset.id or 0)


def _apply_dictionary(session: Session, view: DatasetView, entries: Sequence[DictionaryEntry]) -> bool:
    known = {spec["name"] for spec in view.schema}
    unknown = [e.name for e in entries if e.name not in known]
    if unknown:
        raise Invalid({"schema": "Describe only fields that appear in the dataset's files."})
    changed = False
    for entry in entries:
        row = view.dictionary.get(entry.name)
        if row is None:
            if not entry.description and not entry.unit:
                continue
            row = DatasetField(dataset_id=view.dataset.id or 0, name=entry.name)
        if (row.description, row.unit) == (entry.description, entry.unit):
            continue
        row.description, row.unit = entry.description, entry.unit
        session.add(row)
        changed = True
    return changed


def update_dictionary(
    session: Session, actor: Actor, view: DatasetView, entries: Sequence[DictionaryEntry]
) -> DatasetView:
    """Set the description and unit of the named fields (the data dictionary)."""
    return update_dataset(session, actor, view, DatasetUpdate.model_validate({"schema": list(entries)}))


# ---- files --------------------------------------------------------------------------------------------


def prepare_upload(session: Session, actor: Actor, dataset_id: int) -> DatasetView:
    """The dataset an actor is about to upload to: 404 if they may not know it, 403 if they may not edit."""
    view = get_dataset(session, actor, dataset_id)
    if not view.may_edit:
        raise Forbidden("Only the challenge's sponsors and the programme operator may upload files.")
    return view


def store_version(
    session: Session,
    dataset_id: int,
    staged: staging.StagedFile,
    *,
    uploaded_by_id: int | None,
    analysis: dict[str, Any] | None = None,
) -> DatasetFile:
    """Record a checked file as the next version of its name: moved into place (removed again if the
    transaction fails), analysed when tabular. Shared by uploads and the importer; no permission check."""
    version = (
        session.exec(
            select(func.max(DatasetFile.version)).where(
                DatasetFile.dataset_id == dataset_id, DatasetFile.name == staged.name
            )
        ).one()
        or 0
    ) + 1
    key = staging.new_storage_key("datasets")
    path = staged.move_into_place(key)
    staging.remove_on_rollback(session, path)
    if analysis is None:
        analysis = tabular.analyse(path, staged.file_type.kind)
    row = DatasetFile(
        dataset_id=dataset_id,
        name=staged.name,
        version=version,
        size=staged.size,
        sha256=staged.sha256,
        media_type=staged.media_type,
        storage_key=key,
        row_count=analysis.get("row_count"),
        schema_fields=analysis.get("schema_fields"),
        report=analysis.get("report"),
        preview=analysis.get("preview"),
        uploaded_by_id=uploaded_by_id,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        path.unlink(missing_ok=True)
        raise Conflict("Another upload of a file with this name finished at the same moment. Try again.") from None
    return row


@dataclass
class ImportedValues:
    """What a programme's files say of a dataset (validated by the folder's reader)."""

    title: str
    description: str
    licence: str
    access: Access
    synthetic: bool


@dataclass
class ImportedDataset:
    dataset: Dataset
    created: bool
    updated: bool
    stored: Path | None  # the file stored as a new version, if any


def import_dataset(
    session: Session, challenge: Challenge, values: ImportedValues, source: Path, *, sha256: str, size: int
) -> ImportedDataset:
    """Create or update the dataset of an imported challenge that holds the file `source` (`medina import`, a
    trusted operator action: no actor); matched by file name, else by title. Its owner is the challenge's
    lead sponsor. The same content under the same name is left alone; changed content is the next version,
    stored and analysed as an upload is. Conflict when the file changed since it was read."""
    wanted: dict[str, Any] = {
        "owner_id": challenge.lead_sponsor_id,
        "title": values.title,
        "description": values.description,
        "licence": values.licence,
        "access": values.access.value,
        "synthetic": values.synthetic,
    }
    name = source.name
    dataset = (
        session.exec(
            select(Dataset)
            .join(DatasetFile, col(DatasetFile.dataset_id) == Dataset.id)
            .where(Dataset.challenge_id == challenge.id, DatasetFile.name == name)
        ).first()
        or session.exec(
            select(Dataset).where(Dataset.challenge_id == challenge.id, Dataset.title == values.title)
        ).first()
    )
    created = dataset is None
    changed: list[str] = []
    if dataset is None:
        dataset = Dataset(challenge_id=challenge.id, **wanted)
        session.add(dataset)
        session.flush()
        audit.record(session, "dataset.imported", target=("dataset", dataset.id), fields=["created"])
    else:
        changed = [field for field, value in wanted.items() if getattr(dataset, field) != value]
        for field in changed:
            setattr(dataset, field, wanted[field])
    latest = session.exec(
        select(DatasetFile)
        .where(DatasetFile.dataset_id == dataset.id, DatasetFile.name == name)
        .order_by(col(DatasetFile.version).desc())
    ).first()
    stored = None
    if latest is None or latest.sha256 != sha256 or latest.size != size:
        staged = staging.write_path(name, source)
        try:
            if staged.sha256 != sha256:
                raise Conflict("The file changed while it was imported.")
            row = store_version(session, dataset.id or 0, staged, uploaded_by_id=None)
            stored = staging.path_for(row.storage_key)
        finally:
            staged.discard()
        if latest is not None:
            changed.append("files")
    if changed:
        dataset.updated_at = utcnow()
        session.add(dataset)
        audit.record(session, "dataset.imported", target=("dataset", dataset.id), fields=changed)
    session.flush()
    return ImportedDataset(dataset, created, bool(changed), stored)


def add_file(
    session: Session,
    actor: Actor,
    dataset_id: int,
    staged: staging.StagedFile,
    analysis: dict[str, Any] | None = None,
) -> DatasetFile:
    """Keep a checked upload: next version of its name, moved into place, analysed, recorded."""
    view = prepare_upload(session, actor, dataset_id)
    row = store_version(session, dataset_id, staged, uploaded_by_id=actor.user_id, analysis=analysis)
    view.dataset.updated_at = utcnow()
    session.add(view.dataset)
    session.flush()
    audit.record(
        session,
        "dataset.file_uploaded",
        actor=actor,
        target=("dataset", dataset_id),
        file=row.id,
        name=row.name,
        version=row.version,
        sha256=row.sha256,
    )
    return row


async def receive_file(session: Session, actor: Actor, dataset_id: int, body: UploadBody) -> DatasetFile:
    """Stream a multipart upload (field `file`) into storage, analyse it and keep it (for both faces): the
    permissions are checked before a byte is read and again in the writing transaction (app/files/uploads.py)."""

    def keep(received: ReceivedUpload) -> DatasetFile:
        analysis = tabular.analyse(received.staged.temp_path, received.staged.file_type.kind)
        return add_file(session, actor, dataset_id, received.staged, analysis)

    return await uploads.receive(body, check=lambda: prepare_upload(session, actor, dataset_id), keep=keep)


def store_bytes(session: Session, actor: Actor, dataset_id: int, name: str, data: bytes) -> DatasetFile:
    """Add an in-memory file through the same checks as an upload (imports, demo data, tests)."""
    staged = staging.write_bytes(name, data)
    try:
        return add_file(session, actor, dataset_id, staged)
    finally:
        staged.discard()


def get_file(session: Session, actor: Actor, dataset_id: int, file_id: int) -> tuple[DatasetView, DatasetFile]:
    """A file (any version) of a dataset the actor may see, or a removed one they may still see (see
    _removed_files); access is checked on every call."""
    view = get_dataset(session, actor, dataset_id)
    found = next((f for f in [*view.versions, *view.removed] if f.id == file_id), None)
    if found is None:
        raise NotFound()
    return view, found


def download_file(session: Session, actor: Actor, dataset_id: int, file_id: int) -> tuple[DatasetFile, Path]:
    """A file to download, its download recorded (for anyone but the dataset's staff) so that a file someone
    has is never deleted from under them."""
    view, found = get_file(session, actor, dataset_id, file_id)
    path = file_path(found)
    if not view.staff:
        _record_download(session, found, actor.user_id if actor.is_authenticated else None)
    return found, path


def _record_download(session: Session, file: DatasetFile, user_id: int | None) -> None:
    already = select(DatasetDownload.id).where(
        DatasetDownload.file_id == file.id,
        col(DatasetDownload.user_id).is_(None) if user_id is None else DatasetDownload.user_id == user_id,
    )
    if session.exec(already).first() is not None:
        return
    try:
        with session.begin_nested():
            session.add(DatasetDownload(file_id=file.id or 0, user_id=user_id))
    except IntegrityError:  # the same person's other download recorded it at the same moment
        pass


def remove_file(session: Session, actor: Actor, dataset_id: int, file_id: int) -> bool:
    """Remove a file (version) from the dataset's list. Returns whether it was kept for those who
    downloaded it; one nobody downloaded is deleted, its bytes once this commits."""
    view = get_dataset(session, actor, dataset_id)
    check_editable(view)
    found = next((f for f in view.versions if f.id == file_id), None)
    if found is None:
        raise NotFound()
    # The row lock waits for a download being recorded right now (its insert holds a key-share lock on the
    # file on PostgreSQL), so that a file someone has just received is never deleted under them.
    found = session.exec(
        select(DatasetFile).where(DatasetFile.id == file_id).with_for_update().execution_options(populate_existing=True)
    ).one()
    downloaded = session.exec(select(DatasetDownload.id).where(DatasetDownload.file_id == file_id)).first()
    kept = downloaded is not None
    audit.record(
        session,
        "dataset.file_removed",
        actor=actor,
        target=("dataset", dataset_id),
        file=found.id,
        name=found.name,
        version=found.version,
        sha256=found.sha256,
        kept_for_downloaders=kept,
    )
    if kept:
        found.removed_at = utcnow()
        found.removed_by_id = actor.user_id
        session.add(found)
    else:
        key = found.storage_key
        session.delete(found)
        after_commit(session, lambda: staging.remove_stored(key))
    view.dataset.updated_at = utcnow()
    session.add(view.dataset)
    session.flush()
    return kept


def file_path(file: DatasetFile) -> Path:
    path = staging.path_for(file.storage_key)
    if not path.is_file():
        log.error("stored file missing: dataset_file %s at %s", file.id, path)
        raise NotFound("This file is missing from storage. The platform team has been told.")
    return path
