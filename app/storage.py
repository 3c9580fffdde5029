"""File storage for uploads: streamed to a temporary file in chunks, checked, then moved atomically into place.

An upload is written chunk by chunk to `<data_dir>/files/tmp/` while its SHA-256 and size are computed, so
memory stays constant whatever the file's size. It is refused as soon as it crosses the size limit (413),
when its extension or its content is not on the allow-list (415), or when it is empty (422). Only when
every check has passed does the caller move it into place with `os.replace` under a random,
server-generated storage key (never the client's name). A refused or interrupted upload leaves nothing
behind: the temporary file is removed on every error path.

The multipart body is parsed incrementally with python-multipart's `MultipartParser` (never
`request.form()`, which spools whole files), so the HTTP routes feed `request.stream()` straight in. Each
part's Content-Disposition is read from its raw bytes here: browsers send file and field names as raw
UTF-8, which is kept exactly (Arabic and accented names included); RFC 5987 `filename*` is preferred when a
client sends it; bytes that are not UTF-8 are read as Latin-1, so no name ever makes an upload fail.

Temporary files of uploads cut short by a crash or a kill are swept at start-up (`sweep_temporary_files`).
"""

import codecs
import contextlib
import hashlib
import os
import re
import secrets
import time
import unicodedata
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy import event
from sqlmodel import Session
from starlette.responses import FileResponse, Response

from app import i18n
from app.config import get_settings
from app.errors import DomainError, Invalid

HEAD_BYTES = 64 * 1024
MAX_NAME_LENGTH = 200
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and small fields around the file in a request body
MAX_SMALL_FIELDS_BYTES = 64 * 1024
STALE_TEMPORARY_SECONDS = 3600  # no upload in any process takes this long between two writes to its file


class TooLarge(DomainError):
    status = 413
    title = "Content too large"


class UnsupportedType(DomainError):
    status = 415
    title = "Unsupported media type"


class Interrupted(DomainError):
    status = 400
    title = "Upload interrupted"

    def __init__(self) -> None:
        super().__init__("The upload was interrupted before the whole file arrived. Nothing was stored; try again.")


@dataclass(frozen=True)
class FileType:
    kind: str
    extensions: tuple[str, ...]
    media_type: str
    label: str
    text: bool = False


FILE_TYPES: tuple[FileType, ...] = (
    FileType("csv", (".csv",), "text/csv", "CSV", text=True),
    FileType("geojson", (".geojson",), "application/geo+json", "GeoJSON", text=True),
    FileType("json", (".json",), "application/json", "JSON", text=True),
    FileType("xlsx", (".xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel (XLSX)"),
    FileType("parquet", (".parquet",), "application/vnd.apache.parquet", "Parquet"),
    FileType("zip", (".zip",), "application/zip", "ZIP"),
    FileType("pdf", (".pdf",), "application/pdf", "PDF"),
)
BY_EXTENSION = {ext: t for t in FILE_TYPES for ext in t.extensions}
ALLOWED_EXTENSIONS = ", ".join(sorted(BY_EXTENSION))

# Pictures (a challenge's image): raster formats browsers show, recognised by their magic bytes. No SVG: it
# can carry scripts.
IMAGE_TYPES: tuple[FileType, ...] = (
    FileType("png", (".png",), "image/png", "PNG"),
    FileType("jpeg", (".jpg", ".jpeg"), "image/jpeg", "JPEG"),
    FileType("webp", (".webp",), "image/webp", "WebP"),
)
MAX_IMAGE_BYTES = 5 * 1024**2


def max_upload_bytes() -> int:
    return get_settings().max_upload_bytes


def files_root() -> Path:
    return get_settings().data_dir / "files"


def tmp_dir() -> Path:
    path = files_root() / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_for(storage_key: str) -> Path:
    """Where a stored file lives. Keys are generated here, but check their shape anyway (defence in depth)."""
    if not re.fullmatch(r"[a-z]+/[0-9a-f]{2}/[0-9a-f]{32}", storage_key):
        raise ValueError(f"not a storage key: {storage_key!r}")
    return files_root() / storage_key


def new_storage_key(area: str = "datasets") -> str:
    token = secrets.token_hex(16)
    return f"{area}/{token[:2]}/{token}"


# ---- names ----------------------------------------------------------------------------------------------


_UNSAFE = re.compile(r'[<>:"|?*]')


def sanitise_name(raw: str | None) -> str:
    """A safe display name from the client's file name: the last path segment (POSIX or Windows), without
    control or invisible formatting characters (bidi overrides), without leading dots, at most 200 chars
    (the extension kept). Returns "" when nothing usable is left."""
    name = unicodedata.normalize("NFC", raw or "")
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp"))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_NAME_LENGTH - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_NAME_LENGTH]
    return name


def type_for_name(name: str, types: tuple[FileType, ...] = FILE_TYPES) -> FileType:
    """The allowed type of a file name's extension (case-insensitive), or 415 listing the accepted ones."""
    suffix = os.path.splitext(name)[1].lower()
    found = next((t for t in types if suffix in t.extensions), None)
    if found is None:
        accepted = ", ".join(sorted(ext for t in types for ext in t.extensions))
        raise UnsupportedType("Files of this type are not accepted. Accepted types: %(types)s.", types=accepted)
    return found


def sniff_image(head: bytes) -> FileType | None:
    """The image type whose magic bytes start `head` (PNG, JPEG, WebP), if any."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return IMAGE_TYPES[0]
    if head.startswith(b"\xff\xd8\xff"):
        return IMAGE_TYPES[1]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return IMAGE_TYPES[2]
    return None


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """RFC 6266: an ASCII fallback `filename` plus the exact UTF-8 name in `filename*` (RFC 5987)."""
    from urllib.parse import quote

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._ ()+-]", "_", ascii_name).strip() or "download"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


# ---- writing --------------------------------------------------------------------------------------------


@dataclass
class StagedFile:
    """A complete, checked upload waiting in the temporary folder for the caller to keep or discard."""

    temp_path: Path
    name: str
    size: int
    sha256: str
    file_type: FileType
    moved_to: Path | None = None

    @property
    def media_type(self) -> str:
        return self.file_type.media_type

    def move_into_place(self, storage_key: str) -> Path:
        """Atomically move the file to its final place (same file system as the temporary folder)."""
        target = path_for(storage_key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.temp_path, target)
        self.moved_to = target
        return target

    def discard(self) -> None:
        """Remove the temporary file (no-op once it was moved into place)."""
        if self.moved_to is None:
            self.temp_path.unlink(missing_ok=True)


class UploadWriter:
    """Writes one upload to a temporary file in chunks, hashing and counting, refusing it past `limit`."""

    def __init__(
        self, filename: str | None, *, limit: int | None = None, types: tuple[FileType, ...] = FILE_TYPES
    ) -> None:
        self.name = sanitise_name(filename)
        if not self.name:
            raise Invalid({"file": "Choose a file to upload."})
        self.file_type = type_for_name(self.name, types)
        self.limit = max_upload_bytes() if limit is None else limit
        self.size = 0
        self.digest = hashlib.sha256()
        self.head = bytearray()
        self.text_ok = True
        self.nul_seen = False
        self._decoder = codecs.getincrementaldecoder("utf-8")() if self.file_type.text else None
        fd, path = _mkstemp()
        self.path = Path(path)
        self._file = os.fdopen(fd, "wb", buffering=0)
        self.closed = False

    def write(self, data: bytes | memoryview) -> None:
        if not data:
            return
        self.size += len(data)
        if self.size > self.limit:
            self.abort()
            raise TooLarge("The file is larger than the limit of %(limit)s.", limit=human_size(self.limit))
        self.digest.update(data)
        if len(self.head) < HEAD_BYTES:
            self.head += bytes(data[: HEAD_BYTES - len(self.head)])
        if self._decoder is not None and self.text_ok:
            chunk = bytes(data)
            if b"\x00" in chunk:
                self.nul_seen = True
                self.text_ok = False
            else:
                try:
                    self._decoder.decode(chunk)
                except UnicodeDecodeError:
                    self.text_ok = False
        self._file.write(data)

    def finish(self) -> StagedFile:
        """Close, check emptiness and content; on any refusal the temporary file is gone."""
        try:
            if self._decoder is not None and self.text_ok:
                try:
                    self._decoder.decode(b"", final=True)
                except UnicodeDecodeError:
                    self.text_ok = False
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self.closed = True
            if self.size == 0:
                raise Invalid({"file": "The file is empty. Choose a file with some content."})
            check_content(self.file_type, bytes(self.head), self.path, text_ok=self.text_ok)
        except BaseException:
            self.abort()
            raise
        return StagedFile(self.path, self.name, self.size, self.digest.hexdigest(), self.file_type)

    def abort(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self._file.close()
        self.path.unlink(missing_ok=True)


def sweep_temporary_files(older_than: float = STALE_TEMPORARY_SECONDS) -> int:
    """Remove what a crash or a kill left in the temporary folder (uploads cut short, unsent exports) and
    return how many files went. Only files untouched for `older_than` seconds: other processes sharing the
    data folder may be receiving uploads right now, and a live upload writes to its file as it streams."""
    cutoff = time.time() - older_than
    removed = 0
    for path in tmp_dir().iterdir():
        with contextlib.suppress(OSError):  # gone meanwhile: its upload ended, or another process swept it
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed


def _mkstemp() -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(prefix="upload-", suffix=".part", dir=tmp_dir())


def human_size(size: int) -> str:
    """A size in the current language ("5 Mio" in French), for the messages of refusals."""
    return i18n.format_size(size)


def _refuse_content(file_type: FileType) -> UnsupportedType:
    return UnsupportedType(
        "The content of this file does not match its extension (%(type)s). Nothing was stored.",
        type=file_type.label,
    )


def _has_nul(path: Path) -> bool:
    with path.open("rb") as handle:
        return any(b"\x00" in chunk for chunk in iter(lambda: handle.read(1024 * 1024), b""))


def check_content(file_type: FileType, head: bytes, path: Path, *, text_ok: bool) -> None:
    """Sniff the content: magic bytes for binary formats; for JSON, UTF-8 without NUL bytes (`text_ok`, as
    RFC 8259 wants); for CSV, text without NUL bytes in any 8-bit encoding (French Excel writes
    Windows-1252; the analysis detects which)."""
    kind = file_type.kind
    if kind in ("csv", "json", "geojson"):
        if kind in ("json", "geojson"):
            stripped = head.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n")
            if not text_ok or stripped[:1] not in (b"{", b"["):
                raise _refuse_content(file_type)
        elif head.startswith((b"%PDF-", b"PK\x03\x04", b"PAR1")):
            raise _refuse_content(file_type)
        elif not text_ok and _has_nul(path):
            raise UnsupportedType(
                "This CSV file is not plain text (it may be saved as UTF-16 “Unicode text”): save it again "
                "as “CSV UTF-8” or “CSV (semicolon-separated)” and upload it. Nothing was stored."
            )
        return
    if kind in ("png", "jpeg", "webp"):
        if sniff_image(head) != file_type:
            raise _refuse_content(file_type)
        return
    if kind == "pdf":
        if not head.startswith(b"%PDF-"):
            raise _refuse_content(file_type)
        return
    if kind == "parquet":
        if not head.startswith(b"PAR1") or path.stat().st_size < 12:
            raise _refuse_content(file_type)
        with path.open("rb") as handle:
            handle.seek(-4, os.SEEK_END)
            if handle.read(4) != b"PAR1":
                raise _refuse_content(file_type)
        return
    if kind in ("zip", "xlsx"):
        if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            raise _refuse_content(file_type)
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError):
            raise _refuse_content(file_type) from None
        if kind == "xlsx" and not ("[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)):
            raise _refuse_content(file_type)
        return
    raise _refuse_content(file_type)  # pragma: no cover  (every allowed kind is handled above)


def write_bytes(
    filename: str, data: bytes, *, limit: int | None = None, types: tuple[FileType, ...] = FILE_TYPES
) -> StagedFile:
    """Stage an in-memory file (imports, demo data, tests) through the same checks as an upload."""
    writer = UploadWriter(filename, limit=limit, types=types)
    try:
        for start in range(0, len(data), 1024 * 1024):
            writer.write(data[start : start + 1024 * 1024])
    except BaseException:
        writer.abort()
        raise
    return writer.finish()


def write_path(filename: str, source: Path, *, limit: int | None = None) -> StagedFile:
    """Stage a file from disk in chunks (imports of big files)."""
    writer = UploadWriter(filename, limit=limit)
    try:
        with source.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                writer.write(chunk)
    except BaseException:
        writer.abort()
        raise
    return writer.finish()


# ---- multipart ------------------------------------------------------------------------------------------


_PARAMETER = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_QUOTED_PAIR = re.compile(r'\\(["\\])')  # only these two: an old browser's unescaped C:\path stays readable


def _header_text(raw: bytes) -> str:
    """A header's raw bytes as text: UTF-8 as browsers send it, else Latin-1 (which reads any byte)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _ext_value(value: str) -> str | None:
    """An RFC 5987 ext-value (`UTF-8'lang'percent-encoded`) decoded, or None when it is malformed."""
    charset, quote1, rest = value.partition("'")
    _language, quote2, encoded = rest.partition("'")
    if not (quote1 and quote2) or charset.lower() not in ("utf-8", "iso-8859-1"):
        return None
    try:
        return unquote(encoded, encoding=charset, errors="strict")
    except UnicodeDecodeError:
        return None


def parse_content_disposition(raw: bytes) -> tuple[str, str | None]:
    """The `name` and the file name of a part's Content-Disposition header, read from its raw bytes.

    Quoted values may hold `;` and the escapes `\\"` and `\\\\`; a file name is taken from RFC 5987
    `filename*` when it decodes (RFC 6266 §4.3), else from `filename`. No input raises."""
    parameters: dict[str, str] = {}
    for match in _PARAMETER.finditer(_header_text(raw)):
        key, value = match.group(1).lower(), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = _QUOTED_PAIR.sub(r"\1", value[1:-1])
        elif value.startswith('"'):  # an unterminated quoted string: keep what follows the quote
            value = value[1:]
        parameters.setdefault(key, value)
    extended = parameters.get("filename*")
    filename = _ext_value(extended) if extended is not None else None
    return parameters.get("name", ""), filename if filename is not None else parameters.get("filename")


@dataclass
class _Part:
    headers: dict[str, bytes] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    value: bytearray = field(default_factory=bytearray)


@dataclass
class ReceivedUpload:
    staged: StagedFile
    fields: dict[str, str]


def boundary_of(content_type: str | None) -> bytes:
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary or len(boundary) > 200:
        raise UnsupportedType("Send the file as multipart/form-data in a field named %(field)s.", field="file")
    return boundary


def check_content_length(value: str | None, *, limit: int | None = None) -> None:
    """Refuse a request whose declared body is obviously over the limit, before reading any of it."""
    limit = max_upload_bytes() if limit is None else limit
    if value and value.isdigit() and int(value) > limit + MULTIPART_OVERHEAD:
        raise TooLarge("The file is larger than the limit of %(limit)s.", limit=human_size(limit))


async def receive_upload(
    chunks: AsyncIterator[bytes],
    content_type: str | None,
    *,
    field_name: str = "file",
    limit: int | None = None,
    content_length: str | None = None,
    types: tuple[FileType, ...] = FILE_TYPES,
) -> ReceivedUpload:
    """Parse a multipart body as it streams in, writing the part `field_name` through an UploadWriter.

    Only files of `types` are accepted (the dataset types unless told otherwise). Other parts are kept as
    small text fields (64 KiB in all). A second file part, a missing file part or
    a body that ends before the closing boundary is refused; any exception (client disconnect included)
    removes the temporary file before propagating.
    """
    check_content_length(content_length, limit=limit)
    boundary = boundary_of(content_type)
    state: dict[str, Any] = {"part": None, "writer": None, "staged": None, "ended": False, "small": 0}
    fields: dict[str, str] = {}
    header_field = bytearray()
    header_value = bytearray()

    def on_part_begin() -> None:
        state["part"] = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        state["part"].headers[header_field.decode("latin-1").lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        part: _Part = state["part"]
        part.name, part.filename = parse_content_disposition(part.headers.get("content-disposition", b""))
        if part.name == field_name and part.filename is not None:
            if state["writer"] is not None or state["staged"] is not None:
                raise Invalid({field_name: "Send one file per upload."})
            state["writer"] = UploadWriter(part.filename, limit=limit, types=types)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part: _Part = state["part"]
        writer: UploadWriter | None = state["writer"]
        if writer is not None:
            writer.write(memoryview(data)[start:end])
            return
        state["small"] += end - start
        if state["small"] > MAX_SMALL_FIELDS_BYTES:
            raise Invalid({field_name: "The form sent too much data besides the file."})
        part.value.extend(data[start:end])

    def on_part_end() -> None:
        part: _Part = state["part"]
        writer: UploadWriter | None = state["writer"]
        if writer is not None:
            state["writer"] = None
            state["staged"] = writer.finish()
        elif part.filename is None and part.name:
            fields[part.name] = part.value.decode("utf-8", "replace")

    def on_end() -> None:
        state["ended"] = True

    callbacks: dict[str, Callable[..., None]] = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
        "on_end": on_end,
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in chunks:
            if chunk:
                parser.write(chunk)
        if not state["ended"]:
            if state["writer"] is None and state["staged"] is None:
                raise Invalid({field_name: "Choose a file to upload."})
            raise Interrupted()
    except BaseException as exc:
        if state["writer"] is not None:
            state["writer"].abort()
        if state["staged"] is not None:
            state["staged"].discard()
        if isinstance(exc, DomainError) or not isinstance(exc, Exception):
            raise
        if type(exc).__name__ == "ClientDisconnect":
            raise Interrupted() from exc
        if type(exc).__module__.startswith("python_multipart"):
            raise Invalid({field_name: "The upload could not be read. Send it as multipart/form-data."}) from exc
        raise
    staged: StagedFile | None = state["staged"]
    if staged is None:
        raise Invalid({field_name: "Choose a file to upload."})
    return ReceivedUpload(staged, fields)


def remove_stored(storage_key: str) -> None:
    path_for(storage_key).unlink(missing_ok=True)


def download_response(path: Path, name: str, media_type: str) -> Response:
    """The file as an attachment: server-chosen Content-Disposition (RFC 6266), its stored media type,
    nosniff, no caching of possibly restricted bytes; Starlette's FileResponse answers single and
    multiple HTTP ranges (206 with Content-Range, 416 when unsatisfiable)."""
    return FileResponse(
        path,
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(name),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def image_type_of(path: Path) -> FileType | None:
    """The type of a stored image, read again from its magic bytes (only checked images are stored)."""
    with path.open("rb") as handle:
        return sniff_image(handle.read(16))


def image_response(path: Path, name: str, file_type: FileType, *, public: bool) -> Response:
    """A stored image shown inline: its media type, nosniff, and cached by browsers and shared caches only
    when everyone may see it."""
    return FileResponse(
        path,
        media_type=file_type.media_type,
        headers={
            "Content-Disposition": content_disposition(name + file_type.extensions[0], "inline"),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "public, max-age=3600" if public else "private, no-cache",
        },
    )


_PENDING = "medina_files_moved_into_place"


def _files_rolled_back(session: Session, previous: Any) -> None:
    if previous.parent is None:  # the outermost transaction: its new files go with it
        for path in session.info.pop(_PENDING, []):
            path.unlink(missing_ok=True)


def _files_committed(session: Session) -> None:
    if session.get_nested_transaction() is None:  # the outermost transaction committed: keep the files
        session.info.pop(_PENDING, None)


def remove_on_rollback(session: Session, path: Path) -> None:
    """A file moved into place before its row is committed is removed again if the transaction fails."""
    session.info.setdefault(_PENDING, []).append(path)
    if not event.contains(session, "after_soft_rollback", _files_rolled_back):
        event.listen(session, "after_soft_rollback", _files_rolled_back)
        event.listen(session, "after_commit", _files_committed)
