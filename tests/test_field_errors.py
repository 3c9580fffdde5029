"""Every error lands on its field: the field is marked (aria-invalid, its message under it, tied by
aria-describedby) and the summary at the top of the form names it by its label, in the form's order, linking to
it. Countries are chosen by name and stored as ISO codes; lines of KPIs and test sites are named by number; a
bad data dictionary is a 422 on its inputs, never a 500. The rendered forms' markup is checked as a parser
reads it."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlmodel import select

from app import countries
from app.challenges.models import Challenge
from app.datasets import service as datasets
from app.datasets.models import DatasetField
from app.datasets.schemas import DatasetCreate
from app.db import utcnow
from app.proposals.schemas import ProposalUpdate
from app.startups.models import StartupProfile
from app.validation import InvalidInput, parse
from tests.conftest import post_form, sign_in

CSV = b"stop,line,boardings\nCasa Port,T1,1200\nPlace Nations Unies,T1,950\n"


class Elements(HTMLParser):
    """Every start tag with its attributes as the browser reads them, and the text of the error summary."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def by_id(self, element_id: str) -> dict[str, str | None]:
        return next(attrs for _, attrs in self.tags if attrs.get("id") == element_id)

    def ids(self) -> set[str]:
        return {str(attrs["id"]) for _, attrs in self.tags if attrs.get("id")}


def summary_items(html: str) -> list[str]:
    """The error summary's lines as text, in order."""
    boxes = [box for box in re.findall(r'<div class="form__errors"[^>]*>(.*?)</div>', html, re.S) if "<li>" in box]
    assert len(boxes) == 1, "not one error summary"
    items = re.findall(r"<li>(.*?)</li>", boxes[0], re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip() for item in items]


def assert_marked(html: str, name: str, message: str) -> None:
    """The field `name` is marked invalid with `message` under it, tied by aria-describedby."""
    page = Elements(html)
    field = page.by_id(f"f-{name}")
    assert field.get("aria-invalid") == "true", name
    assert f"e-{name}" in str(field.get("aria-describedby", "")).split(), name
    error = re.search(rf'<span class="field__error" id="e-{re.escape(name)}">(.*?)</span>', html, re.S)
    assert error and message in re.sub(r"\s+", " ", error.group(1)), (name, error and error.group(1))


@pytest.fixture
def startup(make):
    organisation = make.organisation("startup", slug="aquasense", name="AquaSense")
    return {"organisation": organisation, "admin": make.user(organisation=organisation, role="admin")}


@pytest.fixture
def sponsor(make):
    """A partner's staff member and a challenge it leads (its programme has the partner)."""
    lydec = make.organisation("partner", slug="lydec", name="Lydec")
    challenge = make.published_challenge(lydec, slug="fuites")
    return {"organisation": lydec, "user": make.user(organisation=lydec), "challenge": challenge}


# ---- countries ----------------------------------------------------------------------------------------------


def test_countries_are_iso_codes_named_and_sorted_in_the_readers_language():
    assert {"MA", "FR", "SN", "XK"} <= countries.CODES and not {"EU", "ZZ", "UN", "QO", "XA"} & countries.CODES
    french = dict(countries.choices("fr"))
    assert french["MA"] == "Maroc" and dict(countries.choices("ar"))["MA"] == "المغرب"
    names = [name for _, name in countries.choices("fr")]
    assert names.index("Égypte") < names.index("Espagne") < names.index("France")  # É sorts with E
    assert countries.name("MA", "en") == "Morocco" and countries.name("XX", "en") == "XX"


def test_a_country_typed_as_a_name_is_refused_on_the_country_field_with_the_input_kept(client, db, startup):
    sign_in(client, startup["admin"].email)
    response = post_form(
        client,
        "/organisations/aquasense/profile",
        {"name": "AquaSense", "country": "Maroc", "city": "Rabat", "website": "pas une adresse"},
        page="/organisations/aquasense/profile",
    )
    assert response.status_code == 422
    assert_marked(response.text, "country", "Choisissez un pays dans la liste")
    assert_marked(response.text, "website", "Saisissez une adresse web valide")
    assert summary_items(response.text) == [
        "Pays : Choisissez un pays dans la liste (code ISO 3166 à deux lettres, comme MA).",
        "Site web : Saisissez une adresse web valide, par exemple https://example.org.",
    ]
    assert 'href="#f-country"' in response.text and 'value="Rabat"' in response.text
    assert "Choisissez l’une des options" not in response.text and "minuscules" not in response.text
    assert db.exec(select(StartupProfile)).all() == []


def test_the_country_is_chosen_by_name_and_shown_by_name(client, db, startup):
    sign_in(client, startup["admin"].email)
    form = client.get("/organisations/aquasense/profile", headers={"Accept-Language": "ar"})
    assert '<option value="MA">المغرب</option>' in form.text
    saved = post_form(
        client, "/organisations/aquasense/profile", {"name": "AquaSense", "country": "MA", "city": "Rabat"}, page="/"
    )
    assert saved.status_code == 303 and startup["organisation"].country == "MA"
    page = client.get("/organisations/aquasense")
    assert "Rabat, Maroc" in page.text and "Rabat MA" not in page.text


def test_the_api_takes_iso_codes_and_refuses_unknown_ones_on_the_field(client, db, make, startup):
    headers = {"Authorization": f"Bearer {make.token(startup['admin'], 'write')[1]}", "Accept-Language": "en"}
    url = f"/api/v1/organisations/{startup['organisation'].id}/profile"
    refused = client.patch(url, json={"country": "XX"}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "country", "message": "Choose a country from the list (an ISO 3166 two-letter code, such as MA)."}
    ]
    accepted = client.patch(url, json={"country": "sn"}, headers=headers)
    assert accepted.status_code == 200 and accepted.json()["country"] == "SN"


def test_an_organisation_created_with_an_unknown_country_is_refused_on_its_field(client, db, make):
    admin = make.user(organisation=make.organisation("operator"), role="admin")
    admin.is_platform_admin = True
    db.flush()
    sign_in(client, admin.email)
    response = post_form(
        client,
        "/organisations/new",
        {"kind": "partner", "name": "Redal", "country": "XX"},
        page="/organisations/new",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422 and 'value="Redal"' in response.text
    assert_marked(response.text, "country", "Choose a country from the list")
    assert summary_items(response.text)[0].startswith("Country: Choose a country")


# ---- union fields (the video link) ---------------------------------------------------------------------------


def test_an_invalid_link_is_one_error_on_its_own_field():
    with pytest.raises(InvalidInput) as caught:
        parse(ProposalUpdate, {"video_url": "vimeo point com"})
    assert caught.value.errors == {"video_url": "Enter a valid web address, such as https://example.org."}


# ---- the challenge form --------------------------------------------------------------------------------------


def _challenge_form(sponsor, **fields):
    return {
        "programme": str(sponsor["challenge"].programme_id),
        "lead_sponsor": str(sponsor["organisation"].id),
        "title": "Collecte des déchets",
        "summary": "Optimiser les tournées.",
        "problem": "Les bacs débordent.",
        "themes": "waste",
        "deadline": (utcnow() + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M"),
        "ip_terms": "La PI reste à la startup.",
        **fields,
    }


def test_a_bad_test_site_line_is_named_by_its_number_on_the_test_sites_field(client, db, sponsor):
    sign_in(client, sponsor["user"].email)
    sites = "Maârif | Bd Zerktouni | 33.58 | -7.63\n\nAnfa | Bd d'Anfa | 95 | 200"
    response = post_form(client, "/challenges/new", _challenge_form(sponsor, test_sites=sites), page="/challenges/new")
    assert response.status_code == 422
    assert_marked(response.text, "test_sites", "Ligne 3 :")
    assert summary_items(response.text) == [
        "Sites d'expérimentation : Ligne 3 : écrivez « nom | adresse | latitude | longitude » ; le nom est"
        " obligatoire, la latitude va de -90 à 90 et la longitude de -180 à 180."
    ]
    assert "Bd d&#39;Anfa | 95 | 200" in response.text
    assert db.exec(select(Challenge).where(Challenge.title == "Collecte des déchets")).first() is None


def test_a_kpi_line_without_a_target_is_refused_with_its_number(client, db, sponsor):
    sign_in(client, sponsor["user"].email)
    kpis = "Bacs qui débordent | % | 30 | 10\nmauvaise ligne"
    response = post_form(
        client,
        "/challenges/new",
        _challenge_form(sponsor, kpis=kpis, title=""),
        page="/challenges/new",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert_marked(response.text, "kpis", "Line 2: write “name | unit | baseline | target”")
    assert_marked(response.text, "title", "This field is required.")
    items = summary_items(response.text)
    assert items[0] == "Title: This field is required."  # in the form's order: the title comes first
    assert items[1] == (
        "Key performance indicators: Line 2: write “name | unit | baseline | target”; the name and the target are"
        " required."
    )
    assert "mauvaise ligne" in response.text


def test_the_publication_checklist_names_the_fields_and_links_to_them(client, db, sponsor):
    sign_in(client, sponsor["user"].email)
    created = post_form(
        client,
        "/challenges/new",
        _challenge_form(sponsor, problem="", themes=[]),
        page="/challenges/new",
        headers={"Accept-Language": "en"},
    )
    assert created.status_code == 303
    challenge = db.exec(select(Challenge).where(Challenge.title == "Collecte des déchets")).one()
    page = client.get(created.headers["location"], headers={"Accept-Language": "en"})
    edit = f"/challenges/{challenge.id}/edit"
    assert f'<a href="{edit}#f-problem">The problem</a>: This field is required to publish.' in page.text
    assert f'<a href="{edit}#f-themes">Themes</a>: Choose at least one theme to publish.' in page.text
    assert "<strong>problem</strong>" not in page.text
    form = Elements(client.get(edit).text)
    assert {"f-problem", "f-themes"} <= form.ids()


# ---- the data dictionary -------------------------------------------------------------------------------------


@pytest.fixture
def dictionary(db, make, sponsor):
    actor = make.actor(sponsor["user"])
    from app.challenges import service as challenges

    view = challenges.get_challenge(db, actor, sponsor["challenge"].id)
    dataset = datasets.create_dataset(db, actor, view, DatasetCreate(title="Arrêts", licence="CC-BY-4.0"))
    datasets.store_bytes(db, actor, dataset.dataset.id, "stops.csv", CSV)
    return f"/datasets/{dataset.dataset.id}"


@pytest.mark.parametrize(
    ("fields", "name", "message"),
    [
        ({"description_1": "d" * 1001}, "description_1", "Use at most 1000 characters."),
        ({"unit_0": "u" * 41}, "unit_0", "Use at most 40 characters."),
    ],
)
def test_a_bad_data_dictionary_entry_is_a_422_on_its_input(client, db, sponsor, dictionary, fields, name, message):
    page = dictionary
    sign_in(client, sponsor["user"].email)
    form = {"name_0": "stop", "name_1": "line", "name_2": "boardings", "description_0": "Nom de l'arrêt", **fields}
    response = post_form(client, f"{page}/dictionary", form, page=page, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert_marked(response.text, name, message)
    column = {"description_1": "line", "unit_0": "stop"}[name]
    kind = "Description" if name.startswith("description") else "Unit"
    assert summary_items(response.text) == [f"{kind} of {column}: {message}"]
    assert "Nom de l&#39;arrêt" in response.text
    assert db.exec(select(DatasetField).where(DatasetField.description != "")).all() == []


def test_a_dictionary_entry_for_an_unknown_field_is_a_422_not_a_500(client, db, sponsor, dictionary):
    page = dictionary
    sign_in(client, sponsor["user"].email)
    response = post_form(client, f"{page}/dictionary", {"name_0": "nope", "description_0": "?"}, page=page)
    assert response.status_code == 422
    assert len(summary_items(response.text)) == 1


# ---- markup of the rendered forms ----------------------------------------------------------------------------

_WORDS = """id name type value required maxlength minlength rows cols size min max step autocomplete for class href
method action enctype novalidate selected checked disabled hidden multiple accept placeholder role tabindex lang dir
src alt width height rel title content charset http-equiv defer async loading datetime open pattern inputmode readonly
spellcheck scope colspan rowspan target media sizes srcset crossorigin integrity property nonce download label form"""
_ATTRIBUTES = frozenset(_WORDS.split())


def _assert_sound_markup(html: str) -> None:
    page = Elements(html)
    ids = page.ids()
    for tag, attrs in page.tags:
        for attribute in attrs:
            assert attribute in _ATTRIBUTES or re.fullmatch(r"(aria|data|hx)-[a-z-]+", attribute), (tag, attribute)
        for described in str(attrs.get("aria-describedby") or "").split():
            assert described in ids, (tag, attrs.get("id"), described)
        if tag == "label" and attrs.get("for"):
            assert attrs["for"] in ids, attrs["for"]


def test_rendered_forms_have_real_required_and_described_by_attributes(client, db, sponsor, startup, dictionary):
    sign_in(client, sponsor["user"].email)
    new = client.get("/challenges/new").text
    _assert_sound_markup(new)
    summary = Elements(new).by_id("f-summary")
    assert "required" in summary and summary["aria-describedby"] == "h-summary"
    bad = post_form(client, "/challenges/new", {"programme": "x", "summary": ""}, page="/challenges/new").text
    _assert_sound_markup(bad)
    assert Elements(bad).by_id("f-summary")["aria-describedby"] == "h-summary e-summary"
    _assert_sound_markup(client.get(f"/challenges/{sponsor['challenge'].id}/edit").text)
    _assert_sound_markup(client.get(dictionary).text)
    client.cookies.clear()
    sign_in(client, startup["admin"].email)
    _assert_sound_markup(client.get("/organisations/aquasense/profile").text)
    client.cookies.clear()
    _assert_sound_markup(client.get("/register").text)
    _assert_sound_markup(post_form(client, "/register", {"name": ""}, page="/register").text)
