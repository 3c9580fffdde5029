"""The multipart parser of the streamed uploads.

The multipart body is parsed incrementally with python-multipart's `MultipartParser` (never
`request.form()`, which spools whole files), so the HTTP routes feed `request.stream()` straight in and the
file part goes through the staged writer (app/files/staging.py) as it arrives. Each part's
Content-Disposition is read from its raw bytes here: browsers send file and field names as raw UTF-8, which is
kept exactly (Arabic and accented names included); RFC 5987 `filename*` is preferred when a client sends it;
bytes that are not UTF-8 are read as Latin-1, so no name ever makes an upload fail.
"""

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from python_multipart.multipart import MultipartParser, parse_options_header

from app.errors import DomainError, Invalid
from app.files import staging
from app.files.staging import StagedFile, UploadWriter
from app.files.types import FILE_TYPES, FileType, TooLarge, UnsupportedType, human_size

MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and small fields around the file in a request body
MAX_SMALL_FIELDS_BYTES = 64 * 1024


class Interrupted(DomainError):
    status = 400
    title = "Upload interrupted"

    def __init__(self) -> None:
        super().__init__("The upload was interrupted before the whole file arrived. Nothing was stored; try again.")


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
    limit = staging.max_upload_bytes() if limit is None else limit
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
