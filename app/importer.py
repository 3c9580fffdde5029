"""`medina import`: load a programme, its challenges and their datasets from a folder of files, idempotently.

It sits above the domains (beside the pages and the CLI): it writes through the programmes', challenges' and
datasets' services, and datasets build on challenges.

The format is described in challenges/README.md: `programme.yaml`, one Markdown file per challenge with a
YAML front matter, and a `data/` folder.

Rules:
- Importing is a trusted operator action (no actor). Reading and validating the folder (read_folder, no
  database) stays apart from writing, which goes through each aggregate's one writer:
  programmes.service.import_programme, challenges.service.import_challenge, datasets.service.import_dataset.
  Every field is validated with the same pydantic schemas as the forms and the API, so the messages are the
  same.
- All or nothing: every file is read and checked first, and every problem is reported at once, each naming
  the file and the field (`challenges/x/water-leaks.md: deadline: Give the time zone…`). Nothing is written
  unless all files are valid; the caller commits (one transaction for the whole import).
- Idempotent: the programme is matched by slug, a challenge by programme + slug (the file name), a dataset
  by challenge + file name. Values are compared before writing: importing the same files twice changes
  nothing (no new row, no revision bump, no change-log entry, no new file version).
- An edited challenge gets `revision + 1` and a new `updated_at`; once published, the change is also recorded
  in its public change log with the names of the fields that changed. The IP terms get a new version when the
  current one is frozen or the challenge is published (as in the challenges service).
- Organisations are referenced by slug and must exist; the operator must be an operator organisation, the
  city a city, sponsors city, partner or operator organisations.
- A challenge file may move a draft to published (the publication checks apply, except the future deadline:
  an archived programme can be imported), never back to draft.
- A published challenge's deadline follows the challenges service's rule: it only moves later, never into the
  past, never once passed. A file that would break it is refused (nothing is written) unless the import is
  run with `--move-deadlines`, the operator's explicit exception (e.g. to correct a typed-in date).
- Dataset files go through the file store (app/files/: same type and content checks as an upload,
  server-generated key, SHA-256 and size) and are analysed like uploads (schema, row count, preview). The
  same name with the same content is left alone; changed content becomes the next version (older versions
  stay).
- Challenges or datasets missing from the folder are not deleted (they are listed in the result).
"""

import codecs
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlmodel import Session, col, select

from app.accounts.models import Organisation
from app.challenges import permissions as challenge_can
from app.challenges import service as challenges_service
from app.challenges.models import Challenge, ChallengeStatus
from app.challenges.schemas import ChallengeCreate, Slug
from app.datasets import service as datasets_service
from app.datasets.models import Access
from app.errors import Conflict
from app.files import staging
from app.files import types as file_types
from app.programmes import permissions as programme_can
from app.programmes import service as programmes_service
from app.programmes.models import PHASE_ORDER, PhaseKind, Programme
from app.programmes.schemas import PhaseIn, ProgrammeCreate

PROGRAMME_FILE = "programme.yaml"
MERGE_TAG = "tag:yaml.org,2002:merge"  # `<<: *defaults` merges a mapping; its keys may be given again
SECTIONS = {
    # heading (lower case) → field; the French headings are accepted too
    "problem": "problem",
    "problème": "problem",
    "probleme": "problem",
    "context": "context",
    "contexte": "context",
    "expected outcome": "expected_outcome",
    "résultat attendu": "expected_outcome",
    "resultat attendu": "expected_outcome",
    "résultats attendus": "expected_outcome",
}
CHUNK = 1024 * 1024

MOVE_DEADLINES_HINT = "To move it all the same, import with --move-deadlines."

Progress = Callable[[int, int, str], None]
"""Called as progress(done, total, label) while the import advances."""


# ---- errors ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}" if self.field else f"{self.file}: {self.message}"


class ImportFailed(Exception):
    """The folder cannot be imported; nothing was written. `problems` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _pydantic_problems(file: str, error: ValidationError, rename: Callable[[tuple[Any, ...]], str]) -> list[Problem]:
    problems = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if item["type"] == "missing":
            message = "This field is required."
        elif item["type"] == "extra_forbidden":
            message = "Unknown field."
        problems.append(Problem(file, rename(tuple(item["loc"])), message))
    return problems


def _dotted(loc: Iterable[Any]) -> str:
    return ".".join(str(part) for part in loc)


# ---- reading files -----------------------------------------------------------------------------------------


def split_front_matter(text: str) -> tuple[str, str]:
    """The YAML between the first two `---` lines, and the rest. Raises ValueError when there is none."""
    lines = text.removeprefix("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ValueError("The file must start with a YAML front matter between two '---' lines.")
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            return "".join(lines[1:index]), "".join(lines[index + 1 :])
    raise ValueError("The YAML front matter is not closed by a '---' line.")


def split_sections(body: str) -> dict[str, str]:
    """The Markdown body cut at its `## Problem`, `## Context` and `## Expected outcome` headings.
    Raises ValueError on text before the first heading, an unknown `##` heading or a repeated one."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    fence: str | None = None
    for line in body.splitlines():
        stripped = line.strip()
        marker = re.match(r"^(`{3,}|~{3,})", stripped)
        if marker and (fence is None or marker.group(1)[0] == fence[0]):
            fence = None if fence else marker.group(1)
        heading = re.match(r"^##\s+(.+?)\s*#*\s*$", line) if fence is None else None
        if heading:
            name = heading.group(1).strip().lower()
            if name not in SECTIONS:
                raise ValueError(
                    f"Unknown section “{heading.group(1).strip()}”: use ## Problem, ## Context and ## Expected "
                    "outcome (### for sub-headings)."
                )
            current = SECTIONS[name]
            if current in sections:
                raise ValueError(f"The section “{heading.group(1).strip()}” appears twice.")
            sections[current] = []
            continue
        if current is None:
            if stripped:
                raise ValueError("Start the text with a ## Problem heading.")
            continue
        sections[current].append(line)
    return {name: "\n".join(lines).strip() for name, lines in sections.items()}


def _repeated_keys(root: yaml.Node) -> list[tuple[str, int, int]]:
    """Keys given twice in one mapping, anywhere in the document, as (dotted field, first line, second line)
    counted from 0. YAML wants keys unique; PyYAML would keep the last silently. An anchored node is visited
    once however many aliases repeat it."""
    found: list[tuple[str, int, int]] = []
    visited: set[int] = set()
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            lines: dict[str, int] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) and key.tag != MERGE_TAG else None
                field = f"{path}.{name}" if path and name is not None else (name or path)
                if name is not None and name in lines:
                    found.append((field, lines[name], key.start_mark.line))
                elif name is not None:
                    lines[name] = key.start_mark.line
                stack.append((value, field))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}.{index}" if path else str(index)) for index, item in enumerate(node.value))
    return sorted(found, key=lambda repeated: repeated[2])


def _load_yaml(file: str, text: str, *, first_line: int = 1) -> tuple[dict[str, Any] | None, list[Problem]]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        repeated = _repeated_keys(node) if node is not None else []
        data = loader.construct_document(node) if node is not None and not repeated else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + first_line})" if mark is not None else ""
        return None, [Problem(file, "", f"This is not valid YAML{where}: {getattr(exc, 'problem', exc)}.")]
    finally:
        loader.dispose()
    if repeated:
        return None, [
            Problem(file, field, f"This field is given twice, on lines {a + first_line} and {b + first_line}.")
            if a != b
            else Problem(file, field, f"This field is given twice on line {a + first_line}.")
            for field, a, b in repeated
        ]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [Problem(file, "", "The YAML must be a mapping of field names to values.")]
    return data, []


def _read_text(path: Path, file: str) -> tuple[str | None, list[Problem]]:
    try:
        return path.read_text(encoding="utf-8"), []
    except UnicodeDecodeError:
        return None, [Problem(file, "", "The file must be UTF-8 text.")]
    except OSError as exc:
        return None, [Problem(file, "", f"The file cannot be read: {exc.strerror}.")]


# ---- specifications (what the files say, validated) ----------------------------------------------------------


OrgSlug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class ProgrammeRefs(BaseModel):
    """The organisations of programme.yaml, by slug."""

    model_config = ConfigDict(extra="ignore")
    slug: Slug
    operator: OrgSlug
    city: OrgSlug | None = None
    partners: list[OrgSlug] = Field(default_factory=list)
    phases: dict[PhaseKind, dict[str, Any]] = Field(default_factory=dict)


class ChallengeRefs(BaseModel):
    """What a challenge's front matter holds beyond the fields of ChallengeCreate."""

    model_config = ConfigDict(extra="ignore")
    lead_sponsor: OrgSlug
    sponsors: list[OrgSlug] = Field(default_factory=list)
    status: ChallengeStatus = ChallengeStatus.draft
    datasets: list[dict[str, Any]] = Field(default_factory=list, max_length=50)


class DatasetEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: Annotated[str, StringConstraints(min_length=3, max_length=160)]
    description: Annotated[str, StringConstraints(max_length=20_000)] = ""
    licence: Annotated[str, StringConstraints(min_length=2, max_length=80)]
    access: Access = Access.public
    file: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    synthetic: bool = False


@dataclass
class FileSpec:
    path: Path
    name: str
    media_type: str
    size: int
    sha256: str


@dataclass
class DatasetSpec:
    entry: DatasetEntry
    file: FileSpec


@dataclass
class ChallengeSpec:
    file: str
    slug: str
    data: ChallengeCreate
    lead_sponsor: str
    sponsors: list[str]
    status: str
    datasets: list[DatasetSpec]


@dataclass
class ProgrammeSpec:
    file: str
    slug: str
    data: ProgrammeCreate
    operator: str
    city: str | None
    partners: list[str]


@dataclass
class ImportResult:
    programme: str
    programme_created: bool = False
    programme_updated: bool = False
    challenges_created: list[str] = field(default_factory=list)
    challenges_updated: list[str] = field(default_factory=list)
    challenges_unchanged: list[str] = field(default_factory=list)
    challenges_not_in_folder: list[str] = field(default_factory=list)
    datasets_created: int = 0
    datasets_updated: int = 0
    files_stored: int = 0
    files_unchanged: int = 0
    stored_paths: list[Path] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.programme_created
            or self.programme_updated
            or self.challenges_created
            or self.challenges_updated
            or self.datasets_created
            or self.datasets_updated
            or self.files_stored
        )

    def summary(self) -> str:
        state = "created" if self.programme_created else "updated" if self.programme_updated else "unchanged"
        lines = [
            f"programme {self.programme}: {state}",
            f"challenges: {len(self.challenges_created)} created, {len(self.challenges_updated)} updated, "
            f"{len(self.challenges_unchanged)} unchanged",
            f"datasets: {self.datasets_created} created, {self.datasets_updated} updated; "
            f"files: {self.files_stored} stored, {self.files_unchanged} unchanged",
        ]
        if self.challenges_not_in_folder:
            lines.append(
                "in the database but not in the folder (left as they are): " + ", ".join(self.challenges_not_in_folder)
            )
        return "\n".join(lines)

    def discard_files(self) -> None:
        """Remove the files this import stored (when its transaction is rolled back)."""
        for path in self.stored_paths:
            path.unlink(missing_ok=True)
        self.stored_paths.clear()


def _read_programme(folder: Path, shown: str) -> tuple[ProgrammeSpec | None, list[Problem]]:
    file = f"{shown}/{PROGRAMME_FILE}"
    path = folder / PROGRAMME_FILE
    if not path.is_file():
        return None, [Problem(file, "", "The programme file is missing.")]
    text, problems = _read_text(path, file)
    if text is None:
        return None, problems
    raw, problems = _load_yaml(file, text)
    if raw is None:
        return None, problems
    try:
        refs = ProgrammeRefs.model_validate(raw)
    except ValidationError as exc:
        problems += _pydantic_problems(file, exc, _dotted)
        refs = None
    phases: list[PhaseIn] = []
    raw_phases = raw.get("phases") or {}
    if isinstance(raw_phases, dict):
        for kind, dates in raw_phases.items():
            try:
                phases.append(PhaseIn.model_validate({"kind": kind, **(dates if isinstance(dates, dict) else {})}))
            except ValidationError as exc:
                problems += _pydantic_problems(file, exc, _phase_field(str(kind)))
        phases.sort(key=lambda p: PHASE_ORDER.index(p.kind))
        problems += _phase_overlaps(file, phases)
    fields = {k: v for k, v in raw.items() if k not in ("operator", "city", "partners", "phases")}
    try:
        data = ProgrammeCreate.model_validate({**fields, "phases": [p.model_dump() for p in phases]})
    except ValidationError as exc:
        problems += _pydantic_problems(file, exc, lambda loc: "phases" if loc[0] == "phases" else _dotted(loc))
        data = None
    if data is not None:
        try:
            ZoneInfo(data.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(Problem(file, "timezone", "Choose a time zone such as Africa/Casablanca."))
    if problems or refs is None or data is None:
        return None, problems
    return ProgrammeSpec(file, refs.slug, data, refs.operator, refs.city, list(dict.fromkeys(refs.partners))), []


def _phase_field(kind: str) -> Callable[[tuple[Any, ...]], str]:
    return lambda loc: _dotted(("phases", kind, *loc[:1]))


def _phase_overlaps(file: str, phases: list[PhaseIn]) -> list[Problem]:
    problems = []
    for before, after in pairwise(phases):
        if after.starts_on < before.starts_on:
            problems.append(Problem(file, f"phases.{after.kind}", f"This phase starts before the {before.kind} phase."))
    return problems


def _read_challenge(folder: Path, shown: str, path: Path) -> tuple[ChallengeSpec | None, list[Problem]]:
    file = f"{shown}/{path.name}"
    text, problems = _read_text(path, file)
    if text is None:
        return None, problems
    try:
        front, body = split_front_matter(text)
    except ValueError as exc:
        return None, [Problem(file, "", str(exc))]
    raw, problems = _load_yaml(file, front, first_line=2)
    if raw is None:
        return None, problems
    sections: dict[str, str] | None
    try:
        sections = split_sections(body)
    except ValueError as exc:
        problems.append(Problem(file, "body", str(exc)))
        sections = None
    for name in ("problem", "context", "expected_outcome"):
        if name in raw:
            problems.append(Problem(file, name, "Write this in the Markdown body, under its ## heading."))
    try:
        refs = ChallengeRefs.model_validate(raw)
    except ValidationError as exc:
        problems += _pydantic_problems(file, exc, _dotted)
        refs = None
    if refs is not None and refs.status not in (ChallengeStatus.draft, ChallengeStatus.published):
        problems.append(Problem(file, "status", "Choose draft or published."))
    fields = {k: v for k, v in raw.items() if k not in ("lead_sponsor", "sponsors", "status", "datasets")}
    if isinstance(fields.get("kpis"), list):
        # numbers are fine in a KPI: the schema keeps them as text
        fields["kpis"] = [
            {k: str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for k, v in kpi.items()}
            if isinstance(kpi, dict)
            else kpi
            for kpi in fields["kpis"]
        ]
    try:
        data = ChallengeCreate.model_validate(
            {**fields, **(sections or {}), "slug": path.stem, "programme": 1}
        )  # the real id is known only at write time
    except ValidationError as exc:
        problems += _pydantic_problems(file, exc, lambda loc: "file name" if loc == ("slug",) else _dotted(loc))
        data = None
    if data is not None:
        if data.qa_closes_at is not None and data.qa_closes_at > data.deadline:
            problems.append(Problem(file, "qa_closes_at", "Questions must close before the deadline."))
        if refs is not None and refs.status == ChallengeStatus.published:
            if sections is not None and not (data.problem or "").strip():
                problems.append(Problem(file, "body", "A published challenge needs a ## Problem section."))
            if not data.themes:
                problems.append(Problem(file, "themes", "Choose at least one theme to publish."))
    datasets: list[DatasetSpec] = []
    if refs is not None:
        seen: set[str] = set()
        for index, item in enumerate(refs.datasets):
            spec, more = _read_dataset(folder, file, index, item)
            problems += more
            if spec is not None:
                if spec.file.name in seen:
                    problems.append(Problem(file, f"datasets.{index}.file", "This file is listed twice."))
                seen.add(spec.file.name)
                datasets.append(spec)
    if problems or refs is None or data is None:
        return None, problems
    sponsors = [s for s in dict.fromkeys(refs.sponsors) if s != refs.lead_sponsor]
    return ChallengeSpec(file, path.stem, data, refs.lead_sponsor, sponsors, refs.status, datasets), []


def _read_dataset(folder: Path, file: str, index: int, item: Any) -> tuple[DatasetSpec | None, list[Problem]]:
    where = f"datasets.{index}"
    if not isinstance(item, dict):
        return None, [Problem(file, where, "Each dataset is a mapping with title, licence, file…")]
    try:
        entry = DatasetEntry.model_validate(item)
    except ValidationError as exc:
        return None, _pydantic_problems(file, exc, lambda loc: _dotted((where, *loc)))
    root = folder.resolve()
    path = (folder / entry.file).resolve()
    if not path.is_relative_to(root) or path == root:
        return None, [Problem(file, f"{where}.file", "The file must be inside the programme's folder.")]
    if not path.is_file():
        return None, [Problem(file, f"{where}.file", f"There is no file {entry.file}.")]
    try:
        file_type = file_types.type_for_name(path.name)
    except file_types.UnsupportedType:
        message = f"This type of file is not accepted; use one of {file_types.ALLOWED_EXTENSIONS}."
        return None, [Problem(file, f"{where}.file", message)]
    if len(path.name) > file_types.MAX_NAME_LENGTH:
        return None, [Problem(file, f"{where}.file", "The file name is too long (200 characters at most).")]
    size, digest, text_ok = _digest(path)
    if size == 0:
        return None, [Problem(file, f"{where}.file", "The file is empty.")]
    if size > staging.max_upload_bytes():
        limit = file_types.human_size(staging.max_upload_bytes())
        return None, [Problem(file, f"{where}.file", f"The file is larger than the limit of {limit}.")]
    with path.open("rb") as handle:
        head = handle.read(file_types.HEAD_BYTES)
    try:
        file_types.check_content(file_type, head, path, text_ok=text_ok)
    except file_types.UnsupportedType:
        return None, [Problem(file, f"{where}.file", f"The content of the file is not {file_type.label}.")]
    return DatasetSpec(entry, FileSpec(path, path.name, file_type.media_type, size, digest)), []


def _digest(path: Path) -> tuple[int, str, bool]:
    """Size, SHA-256 and whether the file is UTF-8 text without NUL bytes, in one pass of chunks."""
    digest, size, text_ok = hashlib.sha256(), 0, True
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
            if text_ok:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    text_ok = False
                text_ok = text_ok and b"\x00" not in chunk
    if text_ok:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            text_ok = False
    return size, digest.hexdigest(), text_ok


def read_folder(folder: Path, *, shown: str | None = None) -> tuple[ProgrammeSpec, list[ChallengeSpec]]:
    """Every file of the folder read and validated (no database access). Raises ImportFailed."""
    shown = (shown or str(folder)).rstrip("/")
    if not folder.is_dir():
        raise ImportFailed([Problem(shown, "", "There is no such folder.")])
    programme, problems = _read_programme(folder, shown)
    challenges: list[ChallengeSpec] = []
    for path in sorted(folder.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        spec, more = _read_challenge(folder, shown, path)
        problems += more
        if spec is not None:
            challenges.append(spec)
    if problems or programme is None:
        raise ImportFailed(problems)
    return programme, challenges


# ---- checking against the database ------------------------------------------------------------------------


def _resolve_organisations(
    session: Session, programme: ProgrammeSpec, challenges: list[ChallengeSpec]
) -> dict[str, Organisation]:
    wanted = {programme.operator, *programme.partners, *([programme.city] if programme.city else [])}
    for spec in challenges:
        wanted |= {spec.lead_sponsor, *spec.sponsors}
    found = {o.slug: o for o in session.exec(select(Organisation).where(col(Organisation.slug).in_(wanted)))}
    problems: list[Problem] = []

    def check(file: str, name: str, slug: str, allowed: Callable[[Organisation], bool], label: str) -> None:
        organisation = found.get(slug)
        if organisation is None:
            problems.append(Problem(file, name, f"There is no organisation with the short name “{slug}”."))
        elif not allowed(organisation):
            problems.append(Problem(file, name, f"“{slug}” is not {label}."))

    check(programme.file, "operator", programme.operator, programme_can.can_be_operator, "an operator organisation")
    if programme.city:
        check(programme.file, "city", programme.city, programme_can.can_be_city, "a city organisation")
    for slug in programme.partners:
        check(programme.file, "partners", slug, programme_can.can_be_partner, "a partner organisation")
    for spec in challenges:
        label = "a city, partner or operator organisation"
        check(spec.file, "lead_sponsor", spec.lead_sponsor, challenge_can.can_sponsor, label)
        for slug in spec.sponsors:
            check(spec.file, "sponsors", slug, challenge_can.can_sponsor, label)
    if problems:
        raise ImportFailed(problems)
    return found


def _check_existing(
    session: Session, programme: Programme | None, challenges: list[ChallengeSpec], *, move_deadlines: bool
) -> None:
    """What the files would change that the challenges' rules refuse, for every file at once."""
    if programme is None:
        return
    existing = {c.slug: c for c in session.exec(select(Challenge).where(Challenge.programme_id == programme.id))}
    problems = []
    for spec in challenges:
        current = existing.get(spec.slug)
        if current is None or current.status == ChallengeStatus.draft:
            continue
        if spec.status == ChallengeStatus.draft:
            problems.append(Problem(spec.file, "status", "A published challenge cannot go back to draft."))
        if not move_deadlines and spec.data.deadline != current.deadline:
            problem = challenges_service.deadline_change_problem(current, spec.data.deadline)
            if problem:
                problems.append(Problem(spec.file, "deadline", f"{problem} {MOVE_DEADLINES_HINT}"))
    if problems:
        raise ImportFailed(problems)


# ---- writing ----------------------------------------------------------------------------------------------------


def import_folder(
    session: Session,
    folder: Path,
    *,
    shown: str | None = None,
    progress: Progress | None = None,
    move_deadlines: bool = False,
) -> ImportResult:
    """Create or update the programme of `folder`, its challenges and datasets, in `session` (not committed).
    `move_deadlines`: published challenges' deadlines follow the files even where the challenges service
    refuses it (earlier, into the past, once passed) — the operator's explicit exception.

    Raises ImportFailed, having written nothing, when any file is invalid. On success the caller commits; if
    it rolls back instead, it calls `result.discard_files()`."""
    programme_spec, challenge_specs = read_folder(folder, shown=shown)
    organisations = _resolve_organisations(session, programme_spec, challenge_specs)
    programme = session.exec(select(Programme).where(Programme.slug == programme_spec.slug)).first()
    _check_existing(session, programme, challenge_specs, move_deadlines=move_deadlines)

    result = ImportResult(programme=programme_spec.slug)
    total = 1 + len(challenge_specs) + sum(len(s.datasets) for s in challenge_specs)
    done = 0

    def step(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, label)

    try:
        programme = _write_programme(session, programme, programme_spec, organisations, result)
        step(programme_spec.file)
        for spec in challenge_specs:
            challenge = _write_challenge(session, programme, spec, organisations, result, move_deadlines=move_deadlines)
            step(spec.file)
            for dataset in spec.datasets:
                _write_dataset(session, challenge, dataset, result)
                step(dataset.file.name)
        in_folder = {s.slug for s in challenge_specs}
        result.challenges_not_in_folder = sorted(
            slug
            for slug in session.exec(select(Challenge.slug).where(Challenge.programme_id == programme.id))
            if slug not in in_folder
        )
        session.flush()
    except BaseException:
        result.discard_files()
        raise
    return result


def _write_programme(
    session: Session,
    programme: Programme | None,
    spec: ProgrammeSpec,
    organisations: dict[str, Organisation],
    result: ImportResult,
) -> Programme:
    programme, changed = programmes_service.import_programme(
        session,
        programme,
        spec.slug,
        spec.data,
        operator_id=organisations[spec.operator].id or 0,
        city_id=organisations[spec.city].id if spec.city else None,
        partner_ids={organisations[s].id or 0 for s in spec.partners},
    )
    result.programme_created = changed[:1] == ["created"]
    result.programme_updated = bool(changed) and not result.programme_created
    return programme


def _write_challenge(
    session: Session,
    programme: Programme,
    spec: ChallengeSpec,
    organisations: dict[str, Organisation],
    result: ImportResult,
    *,
    move_deadlines: bool,
) -> Challenge:
    challenge, changed = challenges_service.import_challenge(
        session,
        programme.id or 0,
        spec.slug,
        spec.data,
        lead_sponsor_id=organisations[spec.lead_sponsor].id or 0,
        sponsor_ids={organisations[s].id or 0 for s in spec.sponsors},
        status=spec.status,
        move_deadline=move_deadlines,
    )
    if changed[:1] == ["created"]:
        result.challenges_created.append(spec.slug)
    elif changed:
        result.challenges_updated.append(spec.slug)
    else:
        result.challenges_unchanged.append(spec.slug)
    return challenge


def _write_dataset(session: Session, challenge: Challenge, spec: DatasetSpec, result: ImportResult) -> None:
    entry = spec.entry
    try:
        imported = datasets_service.import_dataset(
            session,
            challenge,
            datasets_service.ImportedValues(
                title=entry.title,
                description=entry.description,
                licence=entry.licence,
                access=entry.access,
                synthetic=entry.synthetic,
            ),
            spec.file.path,
            sha256=spec.file.sha256,
            size=spec.file.size,
        )
    except Conflict as exc:
        raise ImportFailed([Problem(result.programme, spec.file.name, exc.detail)]) from None
    if imported.stored is not None:
        result.stored_paths.append(imported.stored)
        result.files_stored += 1
    else:
        result.files_unchanged += 1
    result.datasets_created += imported.created
    result.datasets_updated += imported.updated
