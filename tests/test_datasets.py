"""Datasets: creation, access levels, streamed uploads and their refusals, versions, downloads with ranges,
inference and preview within bounds (columns, cells, characters, time), data dictionary, datapackage.json,
the DCAT catalogue, and the pages."""

import asyncio
import contextvars
import hashlib
import inspect
import json
import re
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlmodel import select

from app import i18n
from app.challenges import service as challenges
from app.datasets import analysis, service
from app.datasets.models import Dataset, DatasetField, DatasetFile
from app.datasets.schemas import DatasetCreate, DatasetUpdate, DictionaryEntry
from app.db import utcnow
from app.errors import Forbidden, NotFound, Unauthenticated
from app.files import staging
from app.security import csrf
from tests.conftest import csrf_token, post_form, sign_in

CSV = b"stop,line,boardings,opened\nCasa Port,T1,1200,2012-12-12\nPlace Nations Unies,T1,950,2012-12-12\n"


def leftovers() -> set[Path]:
    root = staging.files_root()
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
def setting(db, make):
    operator_org = make.organisation("operator")
    casatram = make.organisation("partner", name="Casa Tram")
    other = make.organisation("partner", name="Other partner")
    programme = make.programme(operator_org, partners=[casatram], slug="casa-data", name="Casablanca data")
    challenge = make.published_challenge(
        casatram,
        programme=programme,
        slug="tram-ridership",
        title="Tram ridership",
        summary="Grow ridership.",
        problem="Riders.",
        themes=["mobility"],
        deadline=utcnow() + timedelta(days=30),
    )
    sponsor = make.user(organisation=casatram, role="member")
    return {
        "challenge": challenge,
        "programme": programme,
        "sponsor": sponsor,
        "outsider": make.user(organisation=other, role="admin"),
        "startup": make.member("startup")[0],
        "operator": make.user(organisation=operator_org),
    }


def new_dataset(db, make, setting, access="public", licence="CC-BY-4.0", title="Tram stops"):
    actor = make.actor(setting["sponsor"])
    view = challenges.get_challenge(db, actor, setting["challenge"].id)
    return service.create_dataset(db, actor, view, DatasetCreate(title=title, licence=licence, access=access))


def token(make, user, scope="write"):
    return {"Authorization": f"Bearer {make.token(user, scope)[1]}"}


def upload(client, headers, dataset_id, name, data, content_type="application/octet-stream"):
    return client.post(
        f"/api/v1/datasets/{dataset_id}/files", files={"file": (name, data, content_type)}, headers=headers
    )


def rows(db, dataset_id):
    db.expire_all()
    return db.exec(select(DatasetFile).where(DatasetFile.dataset_id == dataset_id)).all()


# ---- service ----------------------------------------------------------------------------------------


def test_sponsor_staff_create_and_edit_others_may_not(db, make, setting):
    view = new_dataset(db, make, setting)
    assert view.dataset.owner_id == setting["challenge"].lead_sponsor_id and view.may_edit
    for who in ("outsider", "startup"):
        actor = make.actor(setting[who])
        challenge = challenges.get_challenge(db, actor, setting["challenge"].id)
        with pytest.raises(Forbidden):
            service.create_dataset(db, actor, challenge, DatasetCreate(title="Mine", licence="CC0-1.0"))
        with pytest.raises(Forbidden):
            service.update_dataset(
                db, actor, service.get_dataset(db, actor, view.dataset.id), DatasetUpdate(title="xyz")
            )
    operator = make.actor(setting["operator"])
    edited = service.update_dataset(
        db, operator, service.get_dataset(db, operator, view.dataset.id), DatasetUpdate(licence="ODbL-1.0")
    )
    assert edited.dataset.licence == "ODbL-1.0"


@pytest.mark.parametrize(
    ("access", "anonymous", "signed_in"),
    [("public", True, True), ("registered", False, True), ("applicants", False, False), ("selected", False, False)],
)
def test_access_levels(db, make, setting, access, anonymous, signed_in):
    view = new_dataset(db, make, setting, access=access)
    cases = [(make.actor(None), anonymous), (make.actor(setting["startup"]), signed_in)]
    cases += [(make.actor(setting["outsider"]), signed_in), (make.actor(setting["operator"]), True)]
    for actor, visible in cases:
        challenge = challenges.get_challenge(db, actor, setting["challenge"].id)
        listed = [v.dataset.id for v in service.list_datasets(db, actor, challenge)]
        assert (view.dataset.id in listed) is visible
        if visible:
            assert service.get_dataset(db, actor, view.dataset.id)
        elif access == "registered" and not actor.is_authenticated:  # asked to sign in, not told "no such thing"
            with pytest.raises(Unauthenticated):
                service.get_dataset(db, actor, view.dataset.id)
        else:
            with pytest.raises(NotFound):
                service.get_dataset(db, actor, view.dataset.id)


def test_datasets_of_a_draft_challenge_are_hidden_from_outsiders(db, make, setting):
    view = new_dataset(db, make, setting)
    setting["challenge"].status = "draft"
    db.add(setting["challenge"])
    db.flush()
    with pytest.raises(NotFound):
        service.get_dataset(db, make.actor(setting["startup"]), view.dataset.id)
    assert service.get_dataset(db, make.actor(setting["sponsor"]), view.dataset.id)


def test_csv_inference_preview_report_and_versions(db, make, setting):
    view = new_dataset(db, make, setting)
    actor = make.actor(setting["sponsor"])
    first = service.store_bytes(db, actor, view.dataset.id, "stops.csv", CSV)
    assert first.version == 1 and first.row_count == 2 and first.media_type == "text/csv"
    assert first.sha256 == hashlib.sha256(CSV).hexdigest() and first.size == len(CSV)
    assert [(f["name"], f["type"]) for f in first.schema_fields] == [
        ("stop", "string"),
        ("line", "string"),
        ("boardings", "integer"),
        ("opened", "date"),
    ]
    assert first.preview == [["Casa Port", "T1", 1200, "2012-12-12"], ["Place Nations Unies", "T1", 950, "2012-12-12"]]
    assert first.report["valid"] is True and first.report["error_count"] == 0
    ragged = CSV + b"Ain Diab,T1\n"
    second = service.store_bytes(db, actor, view.dataset.id, "stops.csv", ragged)
    assert second.version == 2 and second.report["valid"] is False
    assert second.report["errors"][0]["type"] == "missing-cell"
    again = service.get_dataset(db, actor, view.dataset.id)
    assert [f.id for f in again.files] == [second.id]
    assert [f.id for f in again.older_versions("stops.csv")] == [first.id]
    assert staging.path_for(first.storage_key).read_bytes() == CSV  # the older version stays downloadable


def test_geojson_properties_become_rows_and_json_tables_are_analysed(db, make, setting):
    view = new_dataset(db, make, setting)
    actor = make.actor(setting["sponsor"])
    geo = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-7.6, 33.6]},
                "properties": {"name": "A", "riders": 3},
            },
            {"type": "Feature", "geometry": None, "properties": {"name": "B", "riders": 5}},
        ],
    }
    stored = service.store_bytes(db, actor, view.dataset.id, "stops.geojson", json.dumps(geo).encode())
    assert stored.row_count == 2 and [f["name"] for f in stored.schema_fields] == ["name", "riders"]
    assert stored.preview == [["A", 3], ["B", 5]]
    table = service.store_bytes(db, actor, view.dataset.id, "t.json", b'[{"a": 1, "b": "x"}]')
    assert table.row_count == 1 and table.schema_fields[0] == {"name": "a", "type": "integer"}
    not_a_table = service.store_bytes(db, actor, view.dataset.id, "cfg.json", b'{"settings": true}')
    assert not_a_table.schema_fields is None and not_a_table.preview is None
    pdf = service.store_bytes(db, actor, view.dataset.id, "notice.pdf", b"%PDF-1.4\n%%EOF\n")
    assert pdf.schema_fields is None and pdf.row_count is None


def test_data_dictionary(db, make, setting):
    view = new_dataset(db, make, setting)
    actor = make.actor(setting["sponsor"])
    service.store_bytes(db, actor, view.dataset.id, "stops.csv", CSV)
    view = service.get_dataset(db, actor, view.dataset.id)
    view = service.update_dictionary(
        db, actor, view, [DictionaryEntry(name="boardings", description="Boardings per day", unit="riders/day")]
    )
    spec = next(s for s in view.schema if s["name"] == "boardings")
    assert spec == {"name": "boardings", "type": "integer", "description": "Boardings per day", "unit": "riders/day"}
    from app.errors import Invalid

    with pytest.raises(Invalid):
        service.update_dictionary(db, actor, view, [DictionaryEntry(name="nope", description="?")])
    with pytest.raises(Forbidden):
        startup = make.actor(setting["startup"])
        service.update_dictionary(db, startup, service.get_dataset(db, startup, view.dataset.id), [])


# ---- API --------------------------------------------------------------------------------------------


def test_api_create_upload_read_and_download(client, db, make, setting):
    headers = token(make, setting["sponsor"])
    created = client.post(
        f"/api/v1/challenges/{setting['challenge'].id}/datasets",
        json={"title": "Tram stops", "licence": "ODbL-1.0", "access": "public", "description": "Stops."},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    dataset_id = created.json()["id"]
    answer = upload(client, headers, dataset_id, "stops.csv", CSV)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["sha256"] == hashlib.sha256(CSV).hexdigest() and body["version"] == 1 and body["size"] == len(CSV)
    assert body["url"].endswith(f"/api/v1/datasets/{dataset_id}/files/{body['id']}")
    dataset = client.get(f"/api/v1/datasets/{dataset_id}", headers=headers).json()
    assert [f["name"] for f in dataset["files"]] == ["stops.csv"]
    assert {"name": "boardings", "type": "integer", "description": "", "unit": ""} in dataset["schema"]
    patched = client.patch(
        f"/api/v1/datasets/{dataset_id}",
        json={"schema": [{"name": "boardings", "description": "Per day", "unit": "riders"}]},
        headers=headers,
    )
    assert (
        patched.status_code == 200
        and {
            "name": "boardings",
            "type": "integer",
            "description": "Per day",
            "unit": "riders",
        }
        in patched.json()["schema"]
    )
    download = client.get(body["download_url"], headers=token(make, setting["startup"], "read"))
    assert download.status_code == 200 and download.content == CSV
    assert download.headers["content-type"].startswith("text/csv")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"] == ("attachment; filename=\"stops.csv\"; filename*=UTF-8''stops.csv")
    listed = client.get(f"/api/v1/challenges/{setting['challenge'].id}/datasets", headers=headers).json()
    assert [d["id"] for d in listed["items"]] == [dataset_id]


def test_api_refusals_store_nothing(client, db, make, setting, monkeypatch):
    view = new_dataset(db, make, setting)
    headers = token(make, setting["sponsor"])
    monkeypatch.setattr(staging, "max_upload_bytes", lambda: 100)
    before = leftovers()
    cases = [
        ("exact.csv", b"a" * 99 + b"\n", 201),
        ("over.csv", b"a" * 100 + b"\n", 413),
        ("empty.csv", b"", 422),
        ("fake.csv", b"%PDF-1.4 not a csv", 415),
        ("fake.pdf", b"just text", 415),
        ("../../etc/passwd", b"root:x:0:0", 415),
        ("evil.exe", b"MZ", 415),
    ]
    for name, data, expected in cases:
        answer = upload(client, headers, view.dataset.id, name, data)
        assert answer.status_code == expected, (name, answer.text)
        if expected != 201:
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["status"] == expected
    assert [f.name for f in rows(db, view.dataset.id)] == ["exact.csv"]
    new_files = leftovers() - before
    assert len(new_files) == 1 and not any(p.parent.name == "tmp" for p in new_files)
    too_big = upload(client, headers, view.dataset.id, "over.csv", b"a" * 101)
    assert "100 bytes" in too_big.json()["detail"]


def test_api_upload_declared_too_large_is_refused_up_front(client, db, make, setting, monkeypatch):
    view = new_dataset(db, make, setting)
    monkeypatch.setattr(staging, "max_upload_bytes", lambda: 100)
    body = b"x" * 200_000
    answer = client.post(
        f"/api/v1/datasets/{view.dataset.id}/files",
        content=body,
        headers={**token(make, setting["sponsor"]), "Content-Type": "multipart/form-data; boundary=zz"},
    )
    assert answer.status_code == 413


def test_api_truncated_upload_stores_nothing(client, db, make, setting):
    view = new_dataset(db, make, setting)
    before = leftovers()
    body = b'--zz\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\na,b\n1,2\n'
    answer = client.post(
        f"/api/v1/datasets/{view.dataset.id}/files",
        content=body,
        headers={
            **token(make, setting["sponsor"]),
            "Content-Type": "multipart/form-data; boundary=zz",
            "Accept-Language": "en",
        },
    )
    assert answer.status_code == 400 and "interrupted" in answer.json()["detail"]
    assert rows(db, view.dataset.id) == [] and leftovers() == before


def test_traversal_name_is_stored_under_its_basename(client, db, make, setting):
    view = new_dataset(db, make, setting)
    answer = upload(client, token(make, setting["sponsor"]), view.dataset.id, "..\\..\\windows\\stops.csv", CSV)
    assert answer.status_code == 201 and answer.json()["name"] == "stops.csv"
    stored = rows(db, view.dataset.id)[0]
    assert "stops" not in stored.storage_key and staging.path_for(stored.storage_key).is_file()


def test_versions_stay_downloadable(client, db, make, setting):
    view = new_dataset(db, make, setting)
    headers = token(make, setting["sponsor"])
    first = upload(client, headers, view.dataset.id, "stops.csv", CSV).json()
    second = upload(client, headers, view.dataset.id, "stops.csv", CSV + b"Ain Diab,T1,10,2012-12-12\n").json()
    assert (first["version"], second["version"]) == (1, 2) and first["sha256"] != second["sha256"]
    dataset = client.get(f"/api/v1/datasets/{view.dataset.id}", headers=headers).json()
    assert [f["version"] for f in dataset["files"]] == [2]
    assert [f["version"] for f in dataset["versions"]] == [2, 1]
    old = client.get(first["download_url"], headers=headers)
    assert old.status_code == 200 and hashlib.sha256(old.content).hexdigest() == first["sha256"]


def test_restricted_dataset_is_404_to_others_everywhere(client, db, make, setting):
    view = new_dataset(db, make, setting, access="selected")
    stored = service.store_bytes(db, make.actor(setting["sponsor"]), view.dataset.id, "stops.csv", CSV)
    dataset_id, file_id = view.dataset.id, stored.id
    headers = token(make, setting["startup"])
    for path in (
        f"/api/v1/datasets/{dataset_id}",
        f"/api/v1/datasets/{dataset_id}/files/{file_id}",
        f"/api/v1/datasets/{dataset_id}/files/{file_id}/download",
        f"/api/v1/datasets/{dataset_id}/datapackage.json",
    ):
        assert client.get(path, headers=headers).status_code == 404, path
    assert client.patch(f"/api/v1/datasets/{dataset_id}", json={"title": "xyz"}, headers=headers).status_code == 404
    assert upload(client, headers, dataset_id, "x.csv", CSV).status_code == 404
    listed = client.get(f"/api/v1/challenges/{setting['challenge'].id}/datasets", headers=headers).json()
    assert listed["items"] == []
    for path in (
        f"/datasets/{dataset_id}",
        f"/datasets/{dataset_id}/files/{file_id}/download",
        f"/datasets/{dataset_id}/datapackage.json",
    ):
        assert client.get(path).status_code == 404, path
    sign_in(client, setting["startup"].email)
    assert client.get(f"/datasets/{dataset_id}").status_code == 404
    assert client.get(f"/datasets/{dataset_id}/files/{file_id}/download").status_code == 404
    page = client.get("/programmes/casa-data/challenges/tram-ridership")
    assert "Tram stops" not in page.text
    assert client.get(f"/api/v1/datasets/{dataset_id}", headers=token(make, setting["operator"])).status_code == 200


def test_registered_dataset_needs_a_signed_in_user(client, db, make, setting):
    view = new_dataset(db, make, setting, access="registered")
    stored = service.store_bytes(db, make.actor(setting["sponsor"]), view.dataset.id, "stops.csv", CSV)
    url = f"/datasets/{view.dataset.id}/files/{stored.id}/download"
    refused = client.get(url)
    assert refused.status_code == 303 and refused.headers["location"] == f"/login?next={quote(url)}"
    sign_in(client, setting["startup"].email)
    assert client.get(url).content == CSV


def test_range_requests(client, db, make, setting):
    view = new_dataset(db, make, setting)
    stored = service.store_bytes(db, make.actor(setting["sponsor"]), view.dataset.id, "stops.csv", CSV)
    url = f"/datasets/{view.dataset.id}/files/{stored.id}/download"
    whole = client.get(url)
    assert whole.headers["accept-ranges"] == "bytes"
    part = client.get(url, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == CSV[:10]
    assert part.headers["content-range"] == f"bytes 0-9/{len(CSV)}"
    tail = client.get(url, headers={"Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == CSV[-5:]
    refused = client.get(url, headers={"Range": f"bytes={len(CSV) + 10}-"})
    assert refused.status_code == 416 and refused.headers["content-range"] == f"bytes */{len(CSV)}"
    api = client.get(
        f"/api/v1/datasets/{view.dataset.id}/files/{stored.id}/download",
        headers={**token(make, setting["startup"], "read"), "Range": "bytes=10-19"},
    )
    assert api.status_code == 206 and api.content == CSV[10:20]


def test_content_disposition_for_unicode_names(client, db, make, setting):
    view = new_dataset(db, make, setting)
    stored = service.store_bytes(db, make.actor(setting["sponsor"]), view.dataset.id, "arrêts tram.csv", CSV)
    answer = client.get(f"/datasets/{view.dataset.id}/files/{stored.id}/download")
    assert answer.headers["content-disposition"] == (
        "attachment; filename=\"arrets tram.csv\"; filename*=UTF-8''arr%C3%AAts%20tram.csv"
    )


def test_datapackage_and_dcat_catalogue(client, db, make, setting):
    public = new_dataset(db, make, setting, licence="ODbL-1.0")
    hidden = new_dataset(db, make, setting, access="registered", title="Ridership by hour")
    actor = make.actor(setting["sponsor"])
    stored = service.store_bytes(db, actor, public.dataset.id, "stops.csv", CSV)
    service.store_bytes(db, actor, hidden.dataset.id, "hours.csv", CSV)
    view = service.get_dataset(db, actor, public.dataset.id)
    service.update_dictionary(
        db, actor, view, [DictionaryEntry(name="boardings", description="Per day", unit="riders")]
    )
    package = client.get(f"/datasets/{public.dataset.id}/datapackage.json").json()
    assert package["licenses"][0]["name"] == "ODbL-1.0"
    resource = package["resources"][0]
    assert resource["hash"] == f"sha256:{stored.sha256}" and resource["bytes"] == len(CSV)
    assert resource["path"] == f"http://testserver/datasets/{public.dataset.id}/files/{stored.id}/download"
    assert {"name": "boardings", "type": "integer", "description": "Per day", "unit": "riders"} in resource["schema"][
        "fields"
    ]
    import frictionless

    report = frictionless.Package.validate_descriptor(package)
    assert report.valid, report.flatten(["message"])
    api_package = client.get(
        f"/api/v1/datasets/{public.dataset.id}/datapackage.json", headers=token(make, setting["startup"], "read")
    ).json()
    assert api_package["resources"][0]["path"].startswith("http://testserver/api/v1/")

    answer = client.get("/catalogue.jsonld")
    assert answer.headers["content-type"].startswith("application/ld+json")
    catalogue = answer.json()
    assert catalogue["@type"] == "dcat:Catalog"
    titles = [d["dct:title"] for d in catalogue["dcat:dataset"]]
    assert "Tram stops" in titles and "Ridership by hour" not in titles
    item = next(d for d in catalogue["dcat:dataset"] if d["dct:title"] == "Tram stops")
    assert item["dct:license"]["@id"] == "https://opendatacommons.org/licenses/odbl/1-0/"
    distribution = item["dcat:distribution"][0]
    assert distribution["dcat:downloadURL"]["@id"].endswith(f"/files/{stored.id}/download")
    assert distribution["dcat:mediaType"]["@id"].endswith("text/csv")
    assert distribution["dcat:byteSize"]["@value"] == str(len(CSV))
    assert distribution["spdx:checksum"]["spdx:checksumValue"] == stored.sha256
    setting["challenge"].status = "draft"
    db.add(setting["challenge"])
    db.commit()
    assert client.get("/catalogue.jsonld").json()["dcat:dataset"] == []


# ---- pages ------------------------------------------------------------------------------------------


def test_sponsor_creates_uploads_and_sees_preview_and_dictionary(client, db, make, setting):
    sign_in(client, setting["sponsor"].email)
    challenge_id = setting["challenge"].id
    form = client.get(f"/challenges/{challenge_id}/datasets/new")
    assert form.status_code == 200
    bad = post_form(
        client,
        f"/challenges/{challenge_id}/datasets/new",
        {"title": "", "licence": "nope"},
        page=f"/challenges/{challenge_id}/datasets/new",
    )
    assert bad.status_code == 422 and 'name="title"' in bad.text
    created = post_form(
        client,
        f"/challenges/{challenge_id}/datasets/new",
        {"title": "Tram stops", "licence": "CC-BY-4.0", "access": "public", "description": "All **stops**."},
        page=f"/challenges/{challenge_id}/datasets/new",
    )
    assert created.status_code == 303
    dataset_page = created.headers["location"]
    dataset_id = int(dataset_page.rsplit("/", 1)[1])
    page = client.get(dataset_page)
    token_value = re.search(r'data-csrf="([^"]+)"', page.text).group(1)
    assert 'id="upload-form"' in page.text and "/static/js/upload.js" in page.text
    uploaded = client.post(
        f"/datasets/{dataset_id}/files",
        files={"file": ("stops.csv", CSV, "text/csv")},
        headers={"X-CSRF-Token": token_value, "Origin": "http://testserver"},
    )
    assert uploaded.status_code == 303, uploaded.text
    page = client.get(dataset_page)
    assert "Place Nations Unies" in page.text  # preview
    assert hashlib.sha256(CSV).hexdigest() in page.text
    assert "<strong>stops</strong>" in page.text  # Markdown description
    saved = post_form(
        client,
        f"/datasets/{dataset_id}/dictionary",
        {"name_0": "stop", "description_0": "Tram stop name", "unit_0": "", "name_2": "x"},
        page=dataset_page,
    )
    assert saved.status_code == 303
    assert (
        db.exec(select(DatasetField).where(DatasetField.dataset_id == dataset_id)).one().description == "Tram stop name"
    )
    assert "Tram stop name" in client.get(dataset_page).text
    challenge_page = client.get("/programmes/casa-data/challenges/tram-ridership")
    assert f"/datasets/{dataset_id}" in challenge_page.text and "stops.csv" in challenge_page.text


def test_page_upload_refusal_is_shown_with_nothing_stored(client, db, make, setting):
    view = new_dataset(db, make, setting)
    sign_in(client, setting["sponsor"].email)
    token_value = csrf_token(client, f"/datasets/{view.dataset.id}")
    before = leftovers()
    refused = client.post(
        f"/datasets/{view.dataset.id}/files",
        files={"file": ("fake.csv", b"%PDF-1.4", "text/csv")},
        headers={"X-CSRF-Token": token_value, "Origin": "http://testserver", "Accept-Language": "en"},
    )
    assert refused.status_code == 415 and 'id="upload-error"' in refused.text
    assert "does not match its extension" in refused.text
    assert rows(db, view.dataset.id) == [] and leftovers() == before


def test_page_upload_refusal_is_rendered_off_the_event_loop(client, db, make, setting, monkeypatch):
    """The page answering a refused upload reads the database and renders a template: in a worker thread, never in
    the event loop that streams the bodies of every upload at once."""
    from app.datasets import web

    view = new_dataset(db, make, setting)
    sign_in(client, setting["sponsor"].email)
    token_value = csrf_token(client, f"/datasets/{view.dataset.id}")
    in_loop: list[bool] = []

    def on_loop() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    def spying(original):
        def spy(*args, **kwargs):
            in_loop.append(on_loop())
            return original(*args, **kwargs)

        return spy

    monkeypatch.setattr(web.service, "get_dataset", spying(service.get_dataset))
    monkeypatch.setattr(web, "render", spying(web.render))
    refused = client.post(
        f"/datasets/{view.dataset.id}/files",
        files={"file": ("fake.csv", b"%PDF-1.4", "text/csv")},
        headers={"X-CSRF-Token": token_value, "Origin": "http://testserver"},
    )
    assert refused.status_code == 415 and 'id="upload-error"' in refused.text
    assert len(in_loop) >= 2 and not any(in_loop)


def test_page_upload_needs_a_csrf_token(client, db, make, setting):
    view = new_dataset(db, make, setting)
    sign_in(client, setting["sponsor"].email)
    refused = client.post(
        f"/datasets/{view.dataset.id}/files",
        files={"file": ("stops.csv", CSV, "text/csv")},
        headers={"X-CSRF-Token": "forged", "Origin": "http://testserver"},
    )
    assert refused.status_code == 403 and rows(db, view.dataset.id) == []


@pytest.mark.skipif(
    "query_params" not in inspect.getsource(csrf.is_valid),
    reason="needs the csrf.py change accepting the token in the query string for multipart uploads",
)
def test_plain_form_upload_without_javascript(client, db, make, setting):
    view = new_dataset(db, make, setting)
    sign_in(client, setting["sponsor"].email)
    token_value = csrf_token(client, f"/datasets/{view.dataset.id}")
    uploaded = client.post(
        f"/datasets/{view.dataset.id}/files",
        params={"csrf_token": token_value},
        files={"file": ("stops.csv", CSV, "text/csv")},
        headers={"Origin": "http://testserver"},
    )
    assert uploaded.status_code == 303 and len(rows(db, view.dataset.id)) == 1


def test_staff_edit_the_dataset_page(client, db, make, setting):
    view = new_dataset(db, make, setting)
    sign_in(client, setting["operator"].email)
    page = f"/datasets/{view.dataset.id}/edit"
    assert client.get(page).status_code == 200
    saved = post_form(
        client, page, {"title": "Tram stops 2024", "licence": "CC0-1.0", "access": "registered"}, page=page
    )
    assert saved.status_code == 303
    db.expire_all()
    dataset = db.get(Dataset, view.dataset.id)
    assert (dataset.title, dataset.licence, dataset.access) == ("Tram stops 2024", "CC0-1.0", "registered")


def test_a_rolled_back_upload_leaves_no_file(db, make, setting):
    view = new_dataset(db, make, setting)
    db.commit()
    before = leftovers()
    stored = service.store_bytes(db, make.actor(setting["sponsor"]), view.dataset.id, "stops.csv", CSV)
    path = staging.path_for(stored.storage_key)
    assert path.is_file()
    db.rollback()  # e.g. the request's commit failed
    assert not path.exists() and leftovers() == before


# ---- bounded analysis ---------------------------------------------------------------------------------


def analysed(tmp_path: Path, name: str, data: bytes, **kwargs) -> dict:
    path = tmp_path / name
    path.write_bytes(data)
    return analysis.analyse(path, name.rsplit(".", 1)[1], **kwargs)


def notice_types(result: dict) -> list[str]:
    return [n["type"] for n in result["report"].get("notices", [])]


def test_a_file_with_400000_columns_is_kept_with_a_notice_and_no_schema(client, db, make, setting):
    view = new_dataset(db, make, setting)
    wide = (",".join(f"c{i}" for i in range(400_000)) + "\n" + ",".join("1" * 400_000) + "\n").encode()
    started = time.monotonic()
    answer = upload(client, token(make, setting["sponsor"]), view.dataset.id, "wide.csv", wide)
    assert answer.status_code == 201, answer.text
    assert time.monotonic() - started < 10
    body = answer.json()
    assert body["row_count"] == 1
    assert body["report"]["notices"] == [
        {
            "type": "too-many-columns",
            "message": analysis.TOO_MANY_COLUMNS,
            "variables": {"columns": 400_000, "limit": 1000},
        }
    ]
    stored = rows(db, view.dataset.id)[0]
    assert stored.schema_fields is None and stored.preview is None
    assert staging.path_for(stored.storage_key).read_bytes() == wide
    sign_in(client, setting["sponsor"].email)
    page = client.get(f"/datasets/{view.dataset.id}", headers={"Accept-Language": "en"})
    assert "the file has 400000 columns, and at most 1000 are analysed." in page.text
    assert "Problems found" not in page.text


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_notice_is_shown_translated(client, db, make, setting, language):
    view = new_dataset(db, make, setting)
    stored = service.store_bytes(db, make.actor(setting["sponsor"]), view.dataset.id, "w.csv", b"a,b\n1,2\n")
    stored.report = {"notices": [analysis._notice("too-many-columns", analysis.TOO_MANY_COLUMNS, columns=5, limit=1)]}
    db.add(stored)
    db.flush()
    sign_in(client, setting["sponsor"].email)
    page = client.get(f"/datasets/{view.dataset.id}", headers={"Accept-Language": language}).text

    def translated() -> str:
        i18n.set_language(language)
        return i18n.gettext(analysis.TOO_MANY_COLUMNS, columns=5, limit=1)

    expected = contextvars.copy_context().run(translated)  # this test's own language stays as it was
    assert expected != analysis.TOO_MANY_COLUMNS % {"columns": 5, "limit": 1}
    assert expected in page


def test_the_column_limit_is_inclusive(tmp_path, monkeypatch):
    monkeypatch.setattr(analysis, "MAX_COLUMNS", 3)
    at_limit = analysed(tmp_path, "three.csv", b"a,b,c\n1,2,3\n")
    assert [f["name"] for f in at_limit["schema_fields"]] == ["a", "b", "c"] and "notices" not in at_limit["report"]
    over = analysed(tmp_path, "four.csv", b"a,b,c,d\n1,2,3,4\n5,6,7,8\n")
    assert "schema_fields" not in over and over["row_count"] == 2 and notice_types(over) == ["too-many-columns"]
    keys = analysed(tmp_path, "four.json", json.dumps([{"a": 1, "b": 2}, {"c": 3, "d": 4}]).encode())
    assert "schema_fields" not in keys and keys["row_count"] == 2 and notice_types(keys) == ["too-many-columns"]


def test_validation_is_bounded_by_cells_and_the_row_count_stays_exact(tmp_path, monkeypatch):
    monkeypatch.setattr(analysis, "VALIDATE_CELLS", 40)
    data = b"a,b,c,d\n" + b"1,2,3,4\n" * 500
    result = analysed(tmp_path, "t.csv", data)
    report = result["report"]
    assert (report["rows_checked"], report["limited"], report["valid"]) == (10, True, True)
    assert result["row_count"] == 500 and report["row_count_exact"] is True
    assert len(result["preview"]) == 10


def test_inference_samples_fewer_rows_of_wide_files(tmp_path, monkeypatch):
    import frictionless

    sizes: list[int] = []
    real = frictionless.Detector

    def detector(**kwargs):  # type: ignore[no-untyped-def]
        sizes.append(kwargs["sample_size"])
        return real(**kwargs)

    monkeypatch.setattr(frictionless, "Detector", detector)
    analysed(tmp_path, "narrow.csv", b"a,b\n1,2\n")
    analysed(tmp_path, "wide.csv", (",".join(f"c{i}" for i in range(500)) + "\n").encode())
    assert sizes == [analysis.SAMPLE_ROWS, analysis.SAMPLE_CELLS // 500]


def test_frictionless_reads_a_bounded_prefix_cut_at_a_whole_row(tmp_path, monkeypatch):
    monkeypatch.setattr(analysis, "ANALYSE_CHARS", 44)  # ends inside the row of C
    data = b'name,note\nA,"two\nlines"\nB,"one"\nC,"three\nline\nnote"\nD,x\nE,y\n'
    result = analysed(tmp_path, "t.csv", data)
    report = result["report"]
    assert report["valid"] is True and report["limited"] is True, report
    assert result["preview"] == [["A", "two\nlines"], ["B", "one"]]
    assert result["row_count"] == 5 and report["row_count_exact"] is True


def test_a_first_row_longer_than_the_bound_gets_a_notice(tmp_path, monkeypatch):
    monkeypatch.setattr(analysis, "ANALYSE_CHARS", 100)
    result = analysed(tmp_path, "t.csv", b"x" * 200 + b"\n1\n")
    assert "schema_fields" not in result and notice_types(result) == ["row-too-long"]
    assert result["report"]["notices"][0]["variables"] == {"limit": "100 bytes"}


def test_semicolon_and_tab_files_are_split_on_their_delimiter(tmp_path):
    french = analysed(tmp_path, "fr.csv", 'commune;population;surface\nAïn Sebaâ;"1,5";3\nAnfa;2;4\n'.encode())
    assert [f["name"] for f in french["schema_fields"]] == ["commune", "population", "surface"]
    assert french["preview"][0] == ["Aïn Sebaâ", 1.5, 3]  # a decimal comma, as French Excel writes it
    assert analysis.guess_delimiter("a\tb\n1\t2\n") == "\t"
    assert analysis.guess_delimiter('a,b\n"x;y",2\n') == ","
    assert analysis.guess_delimiter("justone\n1\n") == ","


def test_quotes_that_make_a_dialect_sniffer_quadratic_are_analysed_quickly(tmp_path):
    header = ",".join(f"c{i}" for i in range(50)).encode()
    data = header + b"\n" + b"\n".join(b",".join(b"'quote'd" for _ in range(50)) for _ in range(100)) + b"\n"
    started = time.monotonic()  # csv.Sniffer takes minutes on these 45 KB, Frictionless sniffs 100 lines
    result = analysed(tmp_path, "quotes.csv", data)
    assert time.monotonic() - started < 5
    assert result["row_count"] == 100 and result["report"]["valid"] is True
    assert result["preview"][0][:2] == ["'quote'd", "'quote'd"]


def test_json_is_streamed_the_first_rows_analysed_and_all_counted(tmp_path):
    rows_in = 40_000
    data = ("[" + ",".join(f'{{"a":{i}}}' for i in range(rows_in)) + "]").encode()  # about 400 KiB
    tracemalloc.start()  # which slows allocations: leave the count all the time it needs
    try:
        result = analysed(tmp_path, "t.json", data, count_seconds=60)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 * len(data)  # parsed whole, [{"a": 1}, …] takes about 65 times its size
    report = result["report"]
    assert result["row_count"] == rows_in and report["row_count_exact"] is True
    assert (report["rows_checked"], report["limited"]) == (analysis.VALIDATE_ROWS, True)
    assert result["schema_fields"] == [{"name": "a", "type": "integer"}] and result["preview"][:2] == [[0], [1]]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("bad.json", b'[{"a": 1},, {"a": 2}]'),
        ("scalars.json", b"[1, 2, 3]"),
        ("late-scalar.json", b'[{"a": 1}, 2]'),
        ("trailing.json", b'[{"a": 1}] [2]'),
        ("empty.json", b"[]"),
        ("object.json", b'{"settings": {"a": 1}}'),
        ("list.geojson", b'[{"a": 1}]'),
        ("not-a-collection.geojson", b'{"type": "Feature", "features": [{"properties": {"a": 1}}]}'),
        ("bad-properties.geojson", b'{"type": "FeatureCollection", "features": [{"properties": [1]}]}'),
    ],
)
def test_json_that_is_not_a_table_gets_no_analysis(tmp_path, name, data):
    assert analysed(tmp_path, name, data) == {}


def test_geojson_read_as_a_stream_in_any_key_order(tmp_path, monkeypatch):
    monkeypatch.setattr(analysis, "READ_CHARS", 7)  # many small pieces: values cut anywhere
    features = [{"type": "Feature", "geometry": None, "properties": {"n": i, "name": f"é{i}"}} for i in range(30)]
    document = {"features": features, "name": "stops", "bbox": [-7.6, 33.5, -7.5, 33.6], "type": "FeatureCollection"}
    result = analysed(tmp_path, "t.geojson", json.dumps(document, ensure_ascii=False).encode())
    assert result["row_count"] == 30 and [f["name"] for f in result["schema_fields"]] == ["n", "name"]
    assert result["preview"][0] == [0, "é0"] and result["report"]["valid"] is True
    numbers = analysed(tmp_path, "n.json", b'[{"a": 12345678}, {"a": 98765.4321e2}]')
    assert [str(row[0]) for row in numbers["preview"]] == ["12345678", "9876543.21"]


def test_a_json_element_over_the_bound_stops_the_reading_with_a_notice(tmp_path, monkeypatch):
    monkeypatch.setattr(analysis, "READ_CHARS", 100)
    monkeypatch.setattr(analysis, "MAX_ELEMENT_CHARS", 1000)
    data = json.dumps([{"a": i} for i in range(50)] + [{"a": "x" * 5000}] + [{"a": 1}] * 50).encode()
    result = analysed(tmp_path, "t.json", data)
    assert notice_types(result) == ["element-too-large"]
    assert result["report"]["row_count_exact"] is False and result["row_count"] >= 50
    assert result["schema_fields"] == [{"name": "a", "type": "integer"}]


def test_counting_and_the_whole_analysis_stop_at_their_time_budgets(tmp_path):
    data = json.dumps([{"a": i} for i in range(30_000)]).encode()
    counted = analysed(tmp_path, "t.json", data, count_seconds=0)
    assert notice_types(counted) == ["count-cut"]
    assert counted["report"]["row_count_exact"] is False and counted["report"]["valid"] is True
    assert counted["report"]["notices"][0]["variables"] == {"seconds": 0}
    csv_counted = analysed(tmp_path, "t.csv", b"a\n" + b"1\n" * 20_000, count_seconds=0)
    assert notice_types(csv_counted) == ["count-cut"] and csv_counted["report"]["row_count_exact"] is False
    stopped = analysed(tmp_path, "u.csv", b"a,b\n1,2\n", seconds=0, count_seconds=0)
    assert "schema_fields" not in stopped and "out-of-time" in notice_types(stopped)
    assert "valid" not in stopped["report"]  # a budget is not a failure of the file
