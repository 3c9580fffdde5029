"""A challenge's image: staff upload (streamed, checked by magic bytes, 5 MiB), replace and remove it; it is
shown on the page and in the list, served with the challenge's visibility; refusals leave nothing behind."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from app.challenges import service
from app.challenges.models import Challenge, ChallengeChange
from app.db import utcnow
from app.errors import Forbidden
from app.files import staging
from app.files import types as file_types
from tests.conftest import csrf_token, sign_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 200
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
WEBP = b"RIFF\x00\x01\x00\x00WEBPVP8 " + b"\x00" * 200
ORIGIN = {"Origin": "http://testserver"}


@pytest.fixture
def setting(db, make):
    operator_org = make.organisation("operator")
    casatram = make.organisation("partner", name="Casa Tram")
    programme = make.programme(operator_org, partners=[casatram], slug="casa-images", name="Casablanca images")
    challenges = {}
    for slug, status in (("tram-ridership", "published"), ("quiet-draft", "draft")):
        challenges[status] = make.published_challenge(
            casatram,
            programme=programme,
            slug=slug,
            title=f"Challenge {slug}",
            summary="Grow ridership.",
            problem="Riders.",
            themes=["mobility"],
            deadline=utcnow() + timedelta(days=30),
            status=status,
        )
    return {
        "published": challenges["published"],
        "draft": challenges["draft"],
        "sponsor": make.user(organisation=casatram, role="member"),
        "startup": make.member("startup")[0],
    }


@pytest.fixture(autouse=True)
def _english(client):  # type: ignore[no-untyped-def]
    """These tests read English messages; the French refusal test sends its own Accept-Language."""
    client.headers.update({"Accept-Language": "en"})


def stored_files() -> set[Path]:
    root = staging.files_root()
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def page_of(challenge: Challenge) -> str:
    return f"/programmes/casa-images/challenges/{challenge.slug}"


def upload(client, challenge: Challenge, name: str, data: bytes, *, content_type: str = "image/png", **headers):
    token = csrf_token(client, page_of(challenge))
    return client.post(
        f"/challenges/{challenge.id}/image",
        params={"csrf_token": token},
        files={"file": (name, data, content_type)},
        headers={**ORIGIN, **headers},
    )


def test_staff_upload_a_png_shown_on_the_page_and_in_the_list(client, db, setting):
    challenge = setting["published"]
    sign_in(client, setting["sponsor"].email)
    response = upload(client, challenge, "tram.png", PNG)
    assert response.status_code == 303 and response.headers["location"] == page_of(challenge)
    db.refresh(challenge)
    assert challenge.image_key and challenge.image_key.startswith("challenges/")
    assert staging.path_for(challenge.image_key).read_bytes() == PNG
    page = client.get(page_of(challenge)).text
    assert f'src="/challenges/{challenge.id}/image?v=' in page and f'alt="{challenge.title}"' in page
    assert 'accept="image/png,image/jpeg,image/webp"' in page and "Remove the image" in page
    assert 'class="challenge-card__image"' in client.get("/challenges").text
    image = client.get(f"/challenges/{challenge.id}/image")
    assert image.status_code == 200 and image.content == PNG
    assert image.headers["content-type"] == "image/png"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert image.headers["cache-control"] == "public, max-age=3600"
    assert image.headers["content-disposition"].startswith("inline;")
    change = db.exec(select(ChallengeChange).where(ChallengeChange.challenge_id == challenge.id)).one()
    assert change.fields == ["image"]


@pytest.mark.parametrize(
    ("name", "data", "mime"), [("photo.JPG", JPEG, "image/jpeg"), ("map.webp", WEBP, "image/webp")]
)
def test_jpeg_and_webp_are_served_with_their_media_type(client, db, setting, name, data, mime):
    challenge = setting["published"]
    sign_in(client, setting["sponsor"].email)
    assert upload(client, challenge, name, data, content_type=mime).status_code == 303
    client.cookies.clear()
    image = client.get(f"/challenges/{challenge.id}/image")
    assert image.status_code == 200 and image.headers["content-type"] == mime and image.content == data


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.png", b"just some text, not a picture\n", "does not match its extension (PNG)"),
        ("photo.png", JPEG, "does not match its extension (PNG)"),
        ("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "Accepted types: .jpeg, .jpg, .png, .webp"),
        ("stops.csv", b"stop,riders\nA,1\n", "Accepted types: .jpeg, .jpg, .png, .webp"),
    ],
)
def test_a_refused_type_is_415_and_nothing_is_stored(client, db, setting, name, data, message):
    challenge = setting["published"]
    sign_in(client, setting["sponsor"].email)
    before = stored_files()
    response = upload(client, challenge, name, data, **{"Accept-Language": "en"})
    assert response.status_code == 415 and 'id="image-error"' in response.text and message in response.text
    db.refresh(challenge)
    assert challenge.image_key is None and stored_files() == before


def test_the_refusal_is_in_the_users_language(client, db, setting):
    sign_in(client, setting["sponsor"].email)
    response = upload(client, setting["published"], "notes.png", b"text", **{"Accept-Language": "fr"})
    assert response.status_code == 415 and "ne correspond pas à son extension" in response.text


def test_over_five_mib_is_413_and_nothing_is_stored(client, db, setting):
    challenge = setting["published"]
    sign_in(client, setting["sponsor"].email)
    before = stored_files()
    response = upload(client, challenge, "huge.png", PNG + b"\x00" * file_types.MAX_IMAGE_BYTES)
    assert response.status_code == 413 and "5 MiB" in response.text
    db.refresh(challenge)
    assert challenge.image_key is None and stored_files() == before
    # exactly at the limit is fine
    assert upload(client, challenge, "big.png", PNG.ljust(file_types.MAX_IMAGE_BYTES, b"\x00")).status_code == 303


def test_others_may_not_change_the_image(client, db, setting):
    before = stored_files()
    assert upload(client, setting["published"], "tram.png", PNG).status_code == 303  # anonymous: to sign in
    sign_in(client, setting["startup"].email)
    assert upload(client, setting["published"], "tram.png", PNG).status_code == 403
    token = csrf_token(client, page_of(setting["published"]))
    draft = client.post(
        f"/challenges/{setting['draft'].id}/image",
        params={"csrf_token": token},
        files={"file": ("tram.png", PNG, "image/png")},
        headers=ORIGIN,
    )
    assert draft.status_code == 404  # a draft does not exist for them
    removed = client.post(
        f"/challenges/{setting['published'].id}/image/remove", data={"csrf_token": token}, headers=ORIGIN
    )
    assert removed.status_code == 403
    assert "Change the image" not in client.get(page_of(setting["published"])).text
    assert stored_files() == before


def test_the_service_refuses_non_staff(db, make, setting):
    view = service.get_challenge(db, make.actor(setting["startup"]), setting["published"].id)
    staged = staging.write_bytes("tram.png", PNG, types=file_types.IMAGE_TYPES)
    try:
        with pytest.raises(Forbidden):
            service.set_image(db, make.actor(setting["startup"]), view, staged)
        with pytest.raises(Forbidden):
            service.remove_image(db, make.actor(setting["startup"]), view)
    finally:
        staged.discard()


def test_a_drafts_image_is_seen_by_its_staff_only(client, db, setting):
    draft = setting["draft"]
    sign_in(client, setting["sponsor"].email)
    assert upload(client, draft, "tram.png", PNG).status_code == 303
    staff_view = client.get(f"/challenges/{draft.id}/image")
    assert staff_view.status_code == 200 and staff_view.headers["cache-control"] == "private, no-cache"
    client.cookies.clear()
    assert client.get(f"/challenges/{draft.id}/image").status_code == 404
    sign_in(client, setting["startup"].email)
    assert client.get(f"/challenges/{draft.id}/image").status_code == 404


def test_no_image_is_404(client, setting):
    assert client.get(f"/challenges/{setting['published'].id}/image").status_code == 404
    assert client.get("/challenges/999999/image").status_code == 404


def test_replacing_removes_the_old_file_and_removing_clears_it(client, db, setting):
    challenge = setting["published"]
    sign_in(client, setting["sponsor"].email)
    assert upload(client, challenge, "first.png", PNG).status_code == 303
    db.refresh(challenge)
    first = staging.path_for(challenge.image_key)
    assert first.is_file()
    assert upload(client, challenge, "second.jpg", JPEG, content_type="image/jpeg").status_code == 303
    db.refresh(challenge)
    second = staging.path_for(challenge.image_key)
    assert not first.exists() and second.read_bytes() == JPEG
    token = csrf_token(client, page_of(challenge))
    unconfirmed = client.post(f"/challenges/{challenge.id}/image/remove", data={"csrf_token": token}, headers=ORIGIN)
    assert unconfirmed.status_code == 422 and second.exists()
    removed = client.post(
        f"/challenges/{challenge.id}/image/remove", data={"csrf_token": token, "confirm": "yes"}, headers=ORIGIN
    )
    assert removed.status_code == 303
    db.refresh(challenge)
    assert challenge.image_key is None and not second.exists()
    assert client.get(f"/challenges/{challenge.id}/image").status_code == 404
    page = client.get(page_of(challenge)).text
    assert "/image?v=" not in page and "Add an image" in page


def test_a_rolled_back_image_leaves_no_file(db, make, setting):
    actor = make.actor(setting["sponsor"])
    view = service.get_challenge(db, actor, setting["published"].id)
    before = stored_files()
    staged = staging.write_bytes("tram.png", PNG, types=file_types.IMAGE_TYPES)
    service.set_image(db, actor, view, staged)
    assert len(stored_files() - before) == 1
    db.rollback()
    assert stored_files() == before


def test_dataset_uploads_still_refuse_images():
    with pytest.raises(file_types.UnsupportedType):
        staging.write_bytes("tram.png", PNG)
    with pytest.raises(file_types.UnsupportedType):
        staging.write_bytes("tram.csv", PNG + b"x", types=file_types.IMAGE_TYPES)
