"""Stored files and the staged writer: an upload is written chunk by chunk to `<data_dir>/files/tmp/` while its
SHA-256 and size are computed, so memory stays constant whatever the file's size; it is refused as soon as it
crosses the size limit, when its type or content is refused (app/files/types.py) or when it is empty. Only
when every check has passed does the caller move it into place with `os.replace` under a random,
server-generated storage key (never the client's name). A refused or interrupted upload leaves nothing behind:
the temporary file is removed on every error path, and a file moved into place goes again if its transaction
rolls back (`remove_on_rollback`).

Temporary files of uploads cut short by a crash or a kill are swept at start-up (`sweep_temporary_files`).
"""

import codecs
import contextlib
import hashlib
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from app.config import get_settings
from app.errors import Invalid
from app.files.types import (
    FILE_TYPES,
    HEAD_BYTES,
    FileType,
    TooLarge,
    check_content,
    human_size,
    sanitise_name,
    type_for_name,
)

STALE_TEMPORARY_SECONDS = 3600  # no upload in any process takes this long between two writes to its file


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


# ---- the staged writer --------------------------------------------------------------------------------------------


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


def remove_stored(storage_key: str) -> None:
    path_for(storage_key).unlink(missing_ok=True)


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
