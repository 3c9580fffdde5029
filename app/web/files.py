"""HTTP answers with a stored file, for both faces: a download (attachment) and an image shown inline."""

import re
import unicodedata
from pathlib import Path
from urllib.parse import quote

from starlette.responses import FileResponse, Response

from app.files.types import FileType


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """RFC 6266: an ASCII fallback `filename` plus the exact UTF-8 name in `filename*` (RFC 5987)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._ ()+-]", "_", ascii_name).strip() or "download"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


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
