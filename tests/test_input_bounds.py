"""Input at and beyond its bounds: ids from list filters and cursors never reach the database out of range
(a 422 naming the field on the API, no match on the pages); numbers that are not ASCII digits (², ①) are no
500 in forms, headers and upload fields; `q` searches for its text literally (`%` and `_` are no
wildcards). Run on PostgreSQL too: its integer columns overflow from 2^31, and its text refuses NUL."""

import base64
import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session

from app.api.pagination import CURSOR_PATTERN, _encode, offset_of
from app.challenges import service
from app.challenges.schemas import ChallengeCreate
from app.db import utcnow
from app.proposals import service as proposals
from app.proposals.schemas import ProposalCreate
from app.validation import MAX_ID, id_or_slug
from tests.conftest import post_form, sign_in
from tests.factories import Factory

TOO_BIG = ("2147483648", "3000000000", "9223372036854775808", "99999999999999999999")
NOT_AN_ID_OR_SLUG = ("0", "²", "١٢", "Bad Slug", "a\x00b", "-lydec", "x" * 81)
COMPLETE = {
    "title": "Sensors",
    "summary": "Acoustic sensors find leaks early.",
    "description": "Sensors on valves.",
    "data_use": "Pressure data.",
    "experimentation_plan": "Twelve sensors.",
    "team": [{"name": "Salma", "role": "CEO"}],
    "trl": 5,
    "plan": [{"month": 1, "milestone": "Sensors installed"}],
}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HUGE_CURSOR = base64.urlsafe_b64encode(b"99999999999999999999").decode()


@pytest.fixture
def world(db: Session, make: Factory) -> dict:
    """Two published challenges of Lydec's, one co-sponsored by inwi, in one programme."""
    operator = make.organisation("operator")
    lydec = make.organisation("partner", slug="lydec-bounds", name="Lydec")
    inwi = make.organisation("partner", slug="inwi-bounds", name="inwi")
    programme = make.programme(operator, partners=[lydec], slug="bounds-2017", name="Bounds 2017")
    sponsor = make.user(organisation=lydec)
    actor = make.actor(sponsor)
    challenges = []
    for title, sponsors in (("Use 50% less water", []), ("Tram_feeder buses", [inwi.id])):
        draft = service.create_challenge(
            db,
            actor,
            ChallengeCreate(
                programme=programme.id or 0,
                title=title,
                summary="A challenge of the city.",
                problem="The problem.",
                deadline=utcnow() + timedelta(days=30),
                themes=["water"],
                sponsors=sponsors,
            ),
        )
        challenges.append(service.publish_challenge(db, actor, draft).challenge)
    _, secret = make.token(make.user())
    db.commit()
    api = {"Authorization": f"Bearer {secret}", "Accept-Language": "en"}
    return {
        "programme": programme,
        "lydec": lydec,
        "inwi": inwi,
        "sponsor": sponsor,
        "api": api,
        "water": challenges[0],
    }


# ---- ids and slugs in list filters ---------------------------------------------------------------------------


def test_id_or_slug_reads_ascii_ids_in_range_and_well_formed_slugs() -> None:
    assert id_or_slug("1") == 1 and id_or_slug(str(MAX_ID)) == MAX_ID and id_or_slug("007") == 7
    assert id_or_slug("lydec") == "lydec" and id_or_slug("2017-casa") == "2017-casa"
    assert id_or_slug("2.0") == 2 and id_or_slug("2.5") is None and id_or_slug("2.") is None  # JSON's integer 2.0
    for value in (*TOO_BIG, *NOT_AN_ID_OR_SLUG, ""):
        assert id_or_slug(value) is None, value


@pytest.mark.parametrize("field", ["sponsor", "programme"])
@pytest.mark.parametrize("value", [*TOO_BIG, *NOT_AN_ID_OR_SLUG])
def test_the_api_refuses_an_id_out_of_range_or_a_malformed_slug_naming_the_field(client, world, field, value):
    response = client.get("/api/v1/challenges", params={field: value}, headers=world["api"])
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_the_api_filters_by_id_and_by_slug_up_to_the_largest_id(client, world):
    def titles(**params: str | int) -> list[str]:
        response = client.get("/api/v1/challenges", params=params, headers=world["api"])
        assert response.status_code == 200, response.text
        return sorted(c["title"] for c in response.json()["items"])

    both = ["Tram_feeder buses", "Use 50% less water"]
    assert titles(sponsor=world["lydec"].id) == both == titles(sponsor="lydec-bounds")
    assert titles(sponsor=world["inwi"].id) == ["Tram_feeder buses"] == titles(sponsor="inwi-bounds")
    assert titles(programme=world["programme"].id) == both == titles(programme="bounds-2017")
    assert titles(sponsor=MAX_ID) == [] == titles(programme=MAX_ID) == titles(sponsor="nobody")


@pytest.mark.parametrize("field", ["sponsor", "programme"])
@pytest.mark.parametrize("value", [*TOO_BIG, *NOT_AN_ID_OR_SLUG])
def test_the_page_shows_no_match_for_an_id_out_of_range_or_a_malformed_slug(client, world, field, value):
    response = client.get("/challenges", params={field: value}, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "Use 50% less water" not in response.text and "Tram_feeder buses" not in response.text


def test_the_page_filters_by_slug_and_by_id(client, world):
    by_slug = client.get("/challenges", params={"sponsor": "inwi-bounds"}).text
    by_id = client.get("/challenges", params={"sponsor": str(world["inwi"].id)}).text
    assert "Tram_feeder buses" in by_slug and "Tram_feeder buses" in by_id
    assert "Use 50% less water" not in by_slug and "Use 50% less water" not in by_id


@pytest.mark.parametrize("page", ["²", "١", "99999", "999999999999", "-1", "x"])
def test_a_page_number_that_is_not_a_small_ascii_number_shows_a_page(client, world, page):
    assert client.get("/challenges", params={"page": page}).status_code == 200


@pytest.mark.parametrize("number", ["²", "①", "9" * 5000, "99999999999"])
def test_numbers_in_the_challenge_form_that_are_not_ascii_ids_are_refused_as_input(client, world, number):
    sign_in(client, world["sponsor"].email)
    form = {"title": "T", "programme": number, "lead_sponsor": number, "sponsors": number, "sdgs": number}
    response = post_form(client, "/challenges/new", form, page="/challenges/new")
    assert response.status_code == 422


def test_an_if_match_revision_that_is_not_ascii_digits_is_stale(client, world, make, db):
    challenge = world["water"]
    _, secret = make.token(world["sponsor"], "write")
    db.commit()
    for revision in ("²", "9" * 150):
        response = client.patch(
            f"/api/v1/challenges/{challenge.id}",
            json={"title": "Use less water"},
            headers={"Authorization": f"Bearer {secret}", "If-Match": f'"{challenge.id}-{revision}"'.encode("latin-1")},
        )
        assert response.status_code == 412, response.text


def test_an_attachment_whose_question_is_not_ascii_digits_is_a_plain_attachment(client, db, world, make):
    challenge = world["water"]
    member = make.user(organisation=make.organisation("startup"))
    draft = proposals.create_proposal(db, make.actor(member), ProposalCreate(challenge=challenge.id or 0))
    _, secret = make.token(member, "write")
    db.commit()
    response = client.post(
        f"/api/v1/proposals/{draft.proposal.id}/attachments",
        files={"file": ("deck.pdf", PDF, "application/pdf")},
        data={"question": "²"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["question"] is None


# ---- cursors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/challenges", "/api/v1/programmes"])
@pytest.mark.parametrize(
    "cursor",
    [HUGE_CURSOR, base64.urlsafe_b64encode(b"1000000000").decode(), "LTE", "IDEg", "MV8w", "%%%", "MQ==", "M" * 300],
    ids=["20-nines", "10-digits", "minus-one", "spaces", "underscore", "not-base64", "padded", "long"],
)
def test_a_cursor_outside_its_format_is_a_422_naming_the_cursor(client, world, path, cursor):
    response = client.get(path, params={"cursor": cursor}, headers=world["api"])
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]


def test_every_cursor_the_api_gives_matches_its_documented_pattern_and_back() -> None:
    for offset in (*range(0, 1200), 999_999_999, 123_456_789, 10**8):
        cursor = _encode(offset)
        assert re.fullmatch(CURSOR_PATTERN, cursor), (offset, cursor)
        assert offset_of(cursor) == offset


@given(st.from_regex(CURSOR_PATTERN, fullmatch=True))
def test_every_cursor_of_the_documented_pattern_is_an_offset(cursor: str) -> None:
    assert 0 <= offset_of(cursor) <= 999_999_999


def test_the_next_page_of_challenges_follows_its_cursor(client, world):
    first = client.get("/api/v1/challenges", params={"limit": 1}, headers=world["api"]).json()
    assert len(first["items"]) == 1 and first["next"]
    second = client.get(first["next"].replace("http://testserver", ""), headers=world["api"]).json()
    assert len(second["items"]) == 1 and second["next"] is None
    assert first["items"][0]["id"] != second["items"][0]["id"]


# ---- q: text, not a LIKE pattern ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("%", ["Use 50% less water"]),
        ("50%", ["Use 50% less water"]),
        ("_", ["Tram_feeder buses"]),
        ("m_f", ["Tram_feeder buses"]),
        ("5_%", []),
        ("\\", []),
        ("/", []),
        ("%%", []),
        ("a\x00b", []),
        ("WATER", ["Use 50% less water"]),
        ("", ["Tram_feeder buses", "Use 50% less water"]),
    ],
)
def test_challenge_search_matches_its_text_literally_on_both_faces(client, world, q, found):
    api = client.get("/api/v1/challenges", params={"q": q}, headers=world["api"])
    assert api.status_code == 200, api.text
    assert sorted(c["title"] for c in api.json()["items"]) == found
    page = client.get("/challenges", params={"q": q})
    assert page.status_code == 200
    assert [t for t in ("Tram_feeder buses", "Use 50% less water") if t in page.text] == found


def test_the_staff_proposal_list_matches_startup_names_literally(client, db, world, make):
    challenge = world["water"]
    for name in ("Leak_Sense", "Aqua 100%"):
        make.proposal(make.user(organisation=make.organisation("startup", name=name)), challenge, submitted=True)
    challenge.deadline = utcnow() - timedelta(minutes=1)
    db.add(challenge)
    db.commit()
    sign_in(client, world["sponsor"].email)

    def names(q: str) -> list[str]:
        response = client.get(f"/challenges/{challenge.id}/proposals", params={"q": q})
        assert response.status_code == 200
        return [n for n in ("Leak_Sense", "Aqua 100%") if n in response.text]

    assert names("") == ["Leak_Sense", "Aqua 100%"]
    assert names("%") == ["Aqua 100%"] and names("_") == ["Leak_Sense"]
    assert names("k_s") == ["Leak_Sense"] and names("a%") == [] and names("a\x00") == []


# ---- NUL characters (PostgreSQL's text refuses them) ---------------------------------------------------------


def test_nul_characters_are_dropped_from_json_before_the_fields_are_checked(client, make):
    _, secret = make.token(make.user(), "write")
    api = {"Authorization": f"Bearer {secret}", "Accept-Language": "en"}
    only_nul = client.post(
        "/api/v1/tokens", content='{"name": "\\u0000"}', headers={**api, "Content-Type": "application/json"}
    )
    assert only_nul.status_code == 422
    assert [error["field"] for error in only_nul.json()["errors"]] == ["name"]
    created = client.post("/api/v1/tokens", json={"name": "ci\x00 token"}, headers=api)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "ci token"
    escaped_backslash = client.post(
        "/api/v1/tokens", content='{"name": "a\\\\u0000"}', headers={**api, "Content-Type": "application/json"}
    )
    assert escaped_backslash.json()["name"] == "a\\u0000"  # a backslash then the letters: no NUL, kept as typed


def test_nul_characters_are_dropped_from_forms(client, db, make):
    user = make.user(name="Salma")
    db.commit()
    sign_in(client, user.email)
    changed = post_form(client, "/account", {"full_name": "Sal\x00ma B.", "preferred_language": "fr"}, page="/account")
    assert changed.status_code == 303, changed.text
    db.refresh(user)
    assert user.name == "Salma B."
