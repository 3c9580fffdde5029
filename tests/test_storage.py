"""The storage layer: names, limits, type checks by extension and content, streamed multipart, no leftovers,
UTF-8 file names kept exactly on every upload route, stale temporary files swept at start-up."""

import asyncio
import io
import os
import time
import zipfile
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlmodel import select

from app.datasets.models import DatasetFile
from app.errors import Invalid
from app.files import multipart as parser
from app.files import staging
from app.files import types as file_types
from app.proposals.models import ProposalAttachment
from app.web import files as web_files
from tests.conftest import csrf_token, sign_in


def run(coroutine):  # type: ignore[no-untyped-def]
    """asyncio.run in a thread of its own: the browser tests may leave an event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def leftovers() -> set[Path]:
    root = staging.files_root()
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(staging, "max_upload_bytes", lambda: 100)
    return 100


def xlsx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return out.getvalue()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\y.csv", "y.csv"),
        ("/abs/path/data.csv", "data.csv"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("bus\x00stops\x1f.csv", "busstops.csv"),
        ("évaluation\u202egpj.csv", "évaluationgpj.csv"),  # bidi override removed
        ("  .hidden.csv ", "hidden.csv"),
        ("..", ""),
        ("", ""),
        ('a<b>:"c|?*.csv', "a_b___c___.csv"),
    ],
)
def test_sanitise_name(raw: str, expected: str) -> None:
    assert file_types.sanitise_name(raw) == expected


def test_sanitise_name_caps_length_and_keeps_extension() -> None:
    name = file_types.sanitise_name("x" * 500 + ".geojson")
    assert len(name) == file_types.MAX_NAME_LENGTH and name.endswith(".geojson")


def test_content_disposition_is_rfc_6266() -> None:
    header = web_files.content_disposition('données "2024".csv')
    assert header.startswith('attachment; filename="donnees _2024_.csv"; ')
    assert "filename*=UTF-8''donn%C3%A9es%20%222024%22.csv" in header


def test_keys_are_random_and_never_the_client_name() -> None:
    staged = staging.write_bytes("../../secret.csv", b"a,b\n1,2\n")
    try:
        key = staging.new_storage_key()
        assert key != staging.new_storage_key()
        path = staged.move_into_place(key)
        assert "secret" not in str(path) and path.is_relative_to(staging.files_root())
        assert staged.name == "secret.csv"
    finally:
        staging.remove_stored(key)


def test_path_for_refuses_forged_keys() -> None:
    for key in ("../etc/passwd", "datasets/ab/../../x", "datasets/ab/ABC"):
        with pytest.raises(ValueError):
            staging.path_for(key)


def test_limit_minus_one_exact_and_plus_one(small_limit: int) -> None:
    before = leftovers()
    for size in (small_limit - 1, small_limit):
        staged = staging.write_bytes("f.csv", b"a" * size)
        assert staged.size == size
        staged.discard()
    with pytest.raises(file_types.TooLarge) as refused:
        staging.write_bytes("f.csv", b"a" * (small_limit + 1))
    assert refused.value.status == 413
    assert refused.value.variables == {"limit": "100 bytes"}
    assert leftovers() == before


def test_empty_file_is_refused_with_a_clear_message() -> None:
    before = leftovers()
    with pytest.raises(Invalid) as refused:
        staging.write_bytes("empty.csv", b"")
    assert refused.value.errors == {"file": "The file is empty. Choose a file with some content."}
    assert leftovers() == before


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("report.csv", b"%PDF-1.7\n..."),  # a PDF named .csv
        ("report.pdf", b"just some text\n"),  # text named .pdf
        ("table.csv", b"a,b\n1,\x002\n"),  # NUL byte
        ("table.csv", "a,b\n1,2\n".encode("utf-16")),  # UTF-16 ("Unicode text"): NUL bytes
        ("data.json", b'{"a": "caf\xe9"}'),  # JSON that is not UTF-8
        ("data.json", b"hello"),
        ("data.geojson", b"   nope"),
        ("data.parquet", b"PAR1 but no footer"),
        ("book.xlsx", zip_bytes()),  # a zip without the workbook parts
        ("archive.zip", b"PK\x03\x04 broken"),
        ("script.exe", b"MZ..."),
        ("noextension", b"a,b\n"),
        ("page.html", b"<html>"),
    ],
)
def test_refused_types(name: str, data: bytes) -> None:
    before = leftovers()
    with pytest.raises(file_types.UnsupportedType) as refused:
        staging.write_bytes(name, data)
    assert refused.value.status == 415
    assert leftovers() == before


@pytest.mark.parametrize(
    ("name", "data", "media_type"),
    [
        ("t.csv", b"ville,population\nCasablanca,3300000\n", "text/csv"),
        ("t.csv", b"\xef\xbb\xbfa,b\n1,2\n", "text/csv"),
        ("t.json", b'  [{"a": 1}]', "application/json"),
        ("t.geojson", b'{"type": "FeatureCollection", "features": []}', "application/geo+json"),
        ("t.parquet", b"PAR1" + b"\x00" * 8 + b"PAR1", "application/vnd.apache.parquet"),
        ("t.xlsx", xlsx_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("t.zip", zip_bytes(), "application/zip"),
        ("t.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
    ],
)
def test_accepted_types(name: str, data: bytes, media_type: str) -> None:
    staged = staging.write_bytes(name, data)
    try:
        assert staged.media_type == media_type
        assert staged.size == len(data)
        import hashlib

        assert staged.sha256 == hashlib.sha256(data).hexdigest()
        assert staged.temp_path.read_bytes() == data
    finally:
        staged.discard()


# ---- streamed multipart -----------------------------------------------------------------------------


BOUNDARY = "----medinatest"


def multipart(name: str, data: bytes, *, close: bool = True, extra: dict[str, str] | None = None) -> bytes:
    parts = b""
    for key, value in (extra or {}).items():
        parts += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
    parts += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + data
    if close:
        parts += f"\r\n--{BOUNDARY}--\r\n".encode()
    return parts


async def chunked(body: bytes, size: int = 7, fail_after: int | None = None) -> AsyncIterator[bytes]:
    sent = 0
    for start in range(0, len(body), size):
        if fail_after is not None and sent >= fail_after:
            raise ConnectionResetError("client went away")
        yield body[start : start + size]
        sent += size


def receive(body: bytes, **kwargs) -> parser.ReceivedUpload:
    fail_after = kwargs.pop("fail_after", None)
    return run(
        parser.receive_upload(
            chunked(body, fail_after=fail_after), f"multipart/form-data; boundary={BOUNDARY}", **kwargs
        )
    )


def test_multipart_streams_the_file_and_keeps_small_fields() -> None:
    data = b"stop,boardings\n" + b"Casa Port,1200\n" * 1000
    received = receive(multipart("stops.csv", data, extra={"note": "hello"}))
    try:
        assert received.staged.temp_path.read_bytes() == data
        assert received.staged.name == "stops.csv"
        assert received.fields == {"note": "hello"}
    finally:
        received.staged.discard()


def test_interrupted_stream_leaves_nothing() -> None:
    before = leftovers()
    with pytest.raises(ConnectionResetError):
        receive(multipart("stops.csv", b"a,b\n" * 5000), fail_after=500)
    assert leftovers() == before


def test_client_disconnect_becomes_interrupted() -> None:
    from starlette.requests import ClientDisconnect

    async def disconnecting() -> AsyncIterator[bytes]:
        yield multipart("stops.csv", b"a,b\n" * 100, close=False)
        raise ClientDisconnect()

    before = leftovers()
    with pytest.raises(parser.Interrupted):
        run(parser.receive_upload(disconnecting(), f"multipart/form-data; boundary={BOUNDARY}"))
    assert leftovers() == before


def test_body_ending_before_the_closing_boundary_is_interrupted() -> None:
    before = leftovers()
    with pytest.raises(parser.Interrupted):
        receive(multipart("stops.csv", b"a,b\n1,2\n", close=False))
    assert leftovers() == before


def test_multipart_over_the_limit_stops_early(small_limit: int) -> None:
    before = leftovers()
    consumed = 0

    async def counting() -> AsyncIterator[bytes]:
        nonlocal consumed
        async for chunk in chunked(multipart("big.csv", b"x" * 10_000), size=50):
            consumed += len(chunk)
            yield chunk

    with pytest.raises(file_types.TooLarge):
        run(parser.receive_upload(counting(), f"multipart/form-data; boundary={BOUNDARY}"))
    assert consumed < 400  # refused as soon as the limit was crossed, not after reading everything
    assert leftovers() == before


def test_declared_content_length_over_the_limit_is_refused_before_reading(small_limit: int) -> None:
    async def never() -> AsyncIterator[bytes]:
        raise AssertionError("the body must not be read")
        yield b""  # pragma: no cover

    with pytest.raises(file_types.TooLarge):
        run(
            parser.receive_upload(
                never(), f"multipart/form-data; boundary={BOUNDARY}", content_length=str(10 * 1024**2)
            )
        )


def test_missing_file_part_and_wrong_content_type() -> None:
    body = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--{BOUNDARY}--\r\n'.encode()
    with pytest.raises(Invalid) as missing:
        receive(body)
    assert missing.value.errors == {"file": "Choose a file to upload."}
    with pytest.raises(file_types.UnsupportedType):
        run(parser.receive_upload(chunked(b"{}"), "application/json"))


# ---- file and field names ---------------------------------------------------------------------------

NAMES = ["بيانات.csv", "données-été.csv", "Casa 2024 بيانات données.csv"]


@pytest.mark.parametrize("name", NAMES)
def test_utf8_file_names_are_kept_exactly(name: str) -> None:
    received = receive(multipart(name, b"a,b\n1,2\n"))
    try:
        assert received.staged.name == name
    finally:
        received.staged.discard()


def test_non_latin1_field_names_and_values_are_kept_as_small_fields() -> None:
    received = receive(multipart("s.csv", b"a,b\n1,2\n", extra={"ملاحظة": "نص عربي", "été": "1"}))
    try:
        assert received.fields == {"ملاحظة": "نص عربي", "été": "1"}
    finally:
        received.staged.discard()


def test_a_non_latin1_file_field_name_is_not_the_file() -> None:
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="ملف"; filename="بيانات.csv"\r\n\r\na,b\r\n'
        f"--{BOUNDARY}--\r\n"
    ).encode()
    before = leftovers()
    with pytest.raises(Invalid) as missing:
        receive(body)
    assert missing.value.errors == {"file": "Choose a file to upload."}
    assert leftovers() == before


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('form-data; name="file"; filename="بيانات.csv"'.encode(), ("file", "بيانات.csv")),
        ('form-data; name="file"; filename="donn\xe9es.csv"'.encode("latin-1"), ("file", "données.csv")),
        (b'form-data; name="file"; filename="a; b=c.csv"', ("file", "a; b=c.csv")),
        (b'form-data; name="file"; filename="say \\"hi\\" \\\\ bye.csv"', ("file", 'say "hi" \\ bye.csv')),
        (b'form-data; name="file"; filename="C:\\Users\\x.csv"', ("file", "C:\\Users\\x.csv")),
        (b"form-data; name=file; filename=plain.csv", ("file", "plain.csv")),
        (b'form-data; name="file"; filename="cut.csv', ("file", "cut.csv")),
        (b'form-data; NAME="file"; FILENAME="upper.csv"', ("file", "upper.csv")),
        (
            b'form-data; name="file"; filename="fallback.csv"; filename*=UTF-8\'\'%D8%A8%D9%8A%D8%A7%D9%86.csv',
            ("file", "بيان.csv"),
        ),
        (b'form-data; name="file"; filename*=utf-8\'ar\'%D8%A8.csv; filename="x.csv"', ("file", "ب.csv")),
        (b"form-data; name=\"file\"; filename*=iso-8859-1'fr'donn%E9es.csv", ("file", "données.csv")),
        (b'form-data; name="file"; filename="kept.csv"; filename*=UTF-8\'\'%FF%FE.csv', ("file", "kept.csv")),
        (b'form-data; name="file"; filename="kept.csv"; filename*=no-quotes', ("file", "kept.csv")),
        (b'form-data; name="file"; filename="kept.csv"; filename*=koi8-r\'\'%C1.csv', ("file", "kept.csv")),
        ('form-data; name="ملاحظة"'.encode(), ("ملاحظة", None)),
        (b"form-data", ("", None)),
        (b"\xff\xfe garbage; ;;=; name", ("", None)),
    ],
)
def test_content_disposition_of_a_part(header: bytes, expected: tuple[str, str | None]) -> None:
    assert parser.parse_content_disposition(header) == expected


def test_rfc_5987_file_name_is_kept_through_an_upload() -> None:
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="fallback.csv"; '
        f"filename*=UTF-8''{quote('données بيانات.csv')}\r\n\r\na,b\r\n--{BOUNDARY}--\r\n"
    ).encode()
    received = receive(body)
    try:
        assert received.staged.name == "données بيانات.csv"
    finally:
        received.staged.discard()


# ---- every upload route keeps the name ------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 200
PDF = b"%PDF-1.4\n%%EOF\n"
ORIGIN = {"Origin": "http://testserver"}


@pytest.fixture
def world(db, make):  # type: ignore[no-untyped-def]
    sponsor_org = make.organisation("partner", name="Lydec")
    challenge = make.published_challenge(sponsor_org, slug="leaks", title="Leaks")
    startup = make.organisation("startup", slug="raqmi", name="Raqmi")
    founder = make.user(organisation=startup, role="admin")
    sponsor = make.user(organisation=sponsor_org)

    from app.challenges import service as challenges
    from app.datasets import service as datasets
    from app.datasets.schemas import DatasetCreate
    from app.proposals import service as proposals
    from app.proposals.schemas import ProposalCreate

    view = challenges.get_challenge(db, make.actor(sponsor), challenge.id)
    dataset = datasets.create_dataset(db, make.actor(sponsor), view, DatasetCreate(title="Leaks", licence="CC0-1.0"))
    proposal = proposals.create_proposal(db, make.actor(founder), ProposalCreate(challenge=challenge.id, title="T"))
    return {
        "challenge": challenge,
        "dataset_id": dataset.dataset.id,
        "proposal_id": proposal.proposal.id,
        "sponsor": sponsor,
        "founder": founder,
        "token": {
            "sponsor": {"Authorization": f"Bearer {make.token(sponsor, 'write')[1]}"},
            "founder": {"Authorization": f"Bearer {make.token(founder, 'write')[1]}"},
        },
    }


def assert_served_as(answer, name: str) -> None:  # type: ignore[no-untyped-def]
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"].endswith(f"filename*=UTF-8''{quote(name, safe='')}")


@pytest.mark.parametrize("name", NAMES)
def test_dataset_files_keep_utf8_names_on_both_faces(client, db, world, name: str) -> None:  # type: ignore[no-untyped-def]
    dataset_id = world["dataset_id"]
    api = client.post(
        f"/api/v1/datasets/{dataset_id}/files",
        files={"file": (name, b"a,b\n1,2\n", "text/csv")},
        headers=world["token"]["sponsor"],
    )
    assert api.status_code == 201, api.text
    assert api.json()["name"] == name
    assert_served_as(client.get(api.json()["download_url"], headers=world["token"]["sponsor"]), name)

    sign_in(client, world["sponsor"].email)
    page_name = "v2 " + name
    token = csrf_token(client, f"/datasets/{dataset_id}")
    page = client.post(
        f"/datasets/{dataset_id}/files",
        files={"file": (page_name, b"a,b\n3,4\n", "text/csv")},
        headers={"X-CSRF-Token": token, **ORIGIN},
    )
    assert page.status_code == 303, page.text
    db.expire_all()
    stored = db.exec(select(DatasetFile).where(DatasetFile.name == page_name)).one()
    assert_served_as(client.get(f"/datasets/{dataset_id}/files/{stored.id}/download"), page_name)


@pytest.mark.parametrize("name", ["عرض.pdf", "présentation-été.pdf", "Deck 2024 عرض présentation.pdf"])
def test_proposal_attachments_keep_utf8_names_on_both_faces(client, db, world, name: str) -> None:  # type: ignore[no-untyped-def]
    proposal_id = world["proposal_id"]
    api = client.post(
        f"/api/v1/proposals/{proposal_id}/attachments",
        files={"file": (name, PDF, "application/pdf")},
        headers=world["token"]["founder"],
    )
    assert api.status_code == 201, api.text
    assert api.json()["name"] == name
    assert_served_as(client.get(api.json()["download_url"], headers=world["token"]["founder"]), name)

    sign_in(client, world["founder"].email)
    page_name = "v2 " + name
    token = csrf_token(client, f"/proposals/{proposal_id}/edit")
    page = client.post(
        f"/proposals/{proposal_id}/attachments",
        params={"csrf_token": token},
        files={"file": (page_name, PDF, "application/pdf")},
        headers=ORIGIN,
    )
    assert page.status_code == 303, page.text
    db.expire_all()
    stored = db.exec(select(ProposalAttachment).where(ProposalAttachment.name == page_name)).one()
    assert_served_as(client.get(f"/proposals/{proposal_id}/attachments/{stored.id}/download"), page_name)


IMAGE_NAMES = ["شعار.png", "logo-été.png", "Raqmi شعار logo.png"]


@pytest.mark.parametrize("name", IMAGE_NAMES)
def test_startup_logos_with_utf8_names_are_saved(client, world, name: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world["founder"].email)
    token = csrf_token(client, "/organisations/raqmi/profile")
    logo = client.post(
        "/organisations/raqmi/logo",
        params={"csrf_token": token},
        files={"file": (name, PNG, "image/png")},
        headers=ORIGIN,
    )
    assert logo.status_code == 303, logo.text
    assert client.get("/organisations/raqmi/logo").content == PNG


@pytest.mark.parametrize("name", IMAGE_NAMES)
def test_challenge_images_with_utf8_names_are_saved(client, world, name: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world["sponsor"].email)
    challenge = world["challenge"]
    token = csrf_token(client, "/programmes/casa-names/challenges/leaks")
    image = client.post(
        f"/challenges/{challenge.id}/image",
        params={"csrf_token": token},
        files={"file": (name, PNG, "image/png")},
        headers=ORIGIN,
    )
    assert image.status_code == 303, image.text
    assert client.get(f"/challenges/{challenge.id}/image").content == PNG


# ---- start-up sweep ----------------------------------------------------------------------------------


def test_stale_temporary_files_are_swept_at_start_up_and_fresh_ones_kept(app) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    stale = staging.tmp_dir() / "upload-stale.part"
    fresh = staging.tmp_dir() / "upload-fresh.part"  # another process's upload, still streaming in
    for path in (stale, fresh):
        path.write_bytes(b"a,b\n")
    hour_and_a_bit = time.time() - staging.STALE_TEMPORARY_SECONDS - 60
    os.utime(stale, (hour_and_a_bit, hour_and_a_bit))
    with TestClient(app):
        assert not stale.exists() and fresh.exists()
    fresh.unlink()
