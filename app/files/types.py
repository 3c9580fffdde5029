"""File types: the allow-lists (dataset files, pictures), the refusals of a type or a size, safe display names
and the content sniffing that checks a file's bytes against its extension.

An upload is refused when its extension or its content is not on the allow-list (415) or when it crosses the
size limit (413); the checks here read only a file's first bytes (and, for a few formats, its end or its ZIP
directory), never parse it whole.
"""

import codecs
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from app import i18n
from app.errors import DomainError

HEAD_BYTES = 64 * 1024
MAX_NAME_LENGTH = 200


class TooLarge(DomainError):
    status = 413
    title = "Content too large"


class UnsupportedType(DomainError):
    status = 415
    title = "Unsupported media type"


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


def human_size(size: int) -> str:
    """A size in the current language ("5 Mio" in French), for the messages of refusals."""
    return i18n.format_size(size)


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


def image_type_of(path: Path) -> FileType | None:
    """The type of a stored image, read again from its magic bytes (only checked images are stored)."""
    with path.open("rb") as handle:
        return sniff_image(handle.read(16))


# ---- content --------------------------------------------------------------------------------------------


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
