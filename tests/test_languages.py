"""French, English and Arabic throughout: the IP terms in the reader's language (and the language accepted),
labels, numbers, sizes and dates, French Excel CSVs, the proposals export and isolated user text."""

import contextvars
import csv
import hashlib
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app import i18n
from app.challenges import service as challenges
from app.challenges.schemas import ChallengeCreate
from app.challenges.terms import DEFAULT_IP_TERMS, terms_values
from app.datasets import service as datasets
from app.datasets.schemas import DatasetCreate
from app.db import utcnow
from app.files.types import UnsupportedType
from app.proposals import exports
from app.proposals import service as proposals
from app.proposals.models import ProposalVersion
from app.proposals.schemas import ProposalCreate, ProposalUpdate
from tests.conftest import CSRF_RE, sign_in

FRENCH_EXCEL = "réseau;débit;zone\nMaârif;12,5;eau\nAnfa;3;\n".encode("cp1252")
COMPLETE = {
    "title": "LeakSense",
    "summary": "Capteurs acoustiques.",
    "description": "Des capteurs sur les vannes.",
    "data_use": "Pressions.",
    "experimentation_plan": "Douze capteurs.",
    "team": [{"name": "Salma", "role": "CEO"}],
    "trl": 5,
    "plan": [{"month": 1, "milestone": "Pose"}],
}


def speaking(language, function, *args, **kwargs):
    """`function` run in `language`, the test's own language left as it was."""

    def run():
        i18n.set_language(language)
        return function(*args, **kwargs)

    return contextvars.copy_context().run(run)


def page(client, path, language):
    return client.get(path, headers={"Accept-Language": language})


@pytest.fixture
def world(db, make):
    sponsor_org = make.organisation("partner", name="Lydec")
    startup = make.organisation("startup", name="CasaFlow")
    challenge = make.published_challenge(
        sponsor_org,
        kpis=[{"name": "Points couverts", "unit": "% des points de collecte", "baseline": "20", "target": "60"}],
        terms=terms_values(None, "fr"),
    )
    return {
        "challenge": challenge,
        "sponsor": make.user(organisation=sponsor_org),
        "alice": make.user(organisation=startup, role="admin", name="Alice"),
        "startup": startup,
    }


def _challenge_page(db, world):
    challenge = world["challenge"]
    slug = db.get(type(challenge), challenge.id).slug
    from app.programmes.models import Programme

    return f"/programmes/{db.get(Programme, challenge.programme_id).slug}/challenges/{slug}"


def _proposal(db, make, world):
    actor = make.actor(world["alice"])
    view = proposals.create_proposal(db, actor, ProposalCreate(challenge=world["challenge"].id))
    return proposals.update_proposal(db, actor, view, ProposalUpdate(**COMPLETE))


def _submit_in(client, proposal_id, language):
    path = f"/proposals/{proposal_id}"
    shown = page(client, path, language).text
    token = CSRF_RE.search(shown).group(1)
    language_field = 'name="terms_language" value="'
    terms_language = shown.split(language_field, 1)[1].split('"', 1)[0]
    response = client.post(
        f"{path}/submit",
        data={"csrf_token": token, "accept_terms": "true", "terms_version": "1", "terms_language": terms_language},
        headers={"Origin": "http://testserver", "Accept-Language": language},
    )
    assert response.status_code == 303, response.text
    return shown


# ---- the IP terms -----------------------------------------------------------------------------------------


def test_a_new_challenge_gets_the_default_terms_in_the_three_languages(db, make, world):
    actor = make.actor(world["sponsor"])
    programme = world["challenge"].programme_id
    data = ChallengeCreate(
        programme=programme, title="Collecte des déchets", summary="Mieux collecter.", deadline=utcnow() + timedelta(5)
    )
    view = speaking("ar", challenges.create_challenge, db, actor, data)
    assert view.terms.language == "ar" and view.ip_terms == DEFAULT_IP_TERMS["ar"]
    assert view.terms_in("fr").text.startswith("La propriété intellectuelle des solutions, prototypes et résultats")
    assert view.terms_in("en").text == DEFAULT_IP_TERMS["en"]


def test_terms_a_sponsor_writes_keep_one_text_and_its_language(db, make, world):
    actor = make.actor(world["sponsor"])
    data = ChallengeCreate(
        programme=world["challenge"].programme_id,
        title="Éclairage public",
        summary="Moins consommer.",
        deadline=utcnow() + timedelta(5),
        ip_terms="La ville reçoit une licence d’usage de deux ans.",
    )
    view = speaking("fr", challenges.create_challenge, db, actor, data)
    assert view.terms.language == "fr" and view.terms.translations == {}
    shown = view.terms_in("ar")
    assert shown.text == "La ville reçoit une licence d’usage de deux ans." and shown.language == "fr"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", "La propriété intellectuelle"), ("en", "The intellectual property"), ("ar", "تظل الملكية الفكرية")],
)
def test_the_challenge_page_shows_the_terms_in_the_readers_language(client, db, world, language, expected):
    shown = page(client, _challenge_page(db, world), language).text
    assert expected in shown


def test_the_accepted_version_records_the_language_and_the_hash_of_the_text_shown(client, db, make, world):
    view = _proposal(db, make, world)
    db.commit()
    sign_in(client, world["alice"].email)
    shown = _submit_in(client, view.proposal.id, "ar")
    assert DEFAULT_IP_TERMS["ar"] in shown and DEFAULT_IP_TERMS["fr"] not in shown
    version = db.exec(select(ProposalVersion)).one()
    assert version.terms_language == "ar"
    assert version.terms_sha256 == hashlib.sha256(DEFAULT_IP_TERMS["ar"].encode("utf-8")).hexdigest()
    assert "النسخة 1، باللغة العربية" in page(client, f"/proposals/{view.proposal.id}/versions/1", "ar").text
    assert "version 1, in Arabic" in page(client, f"/proposals/{view.proposal.id}/versions/1", "en").text


def test_terms_in_one_language_say_so_and_are_what_is_accepted(client, db, make, world):
    terms = db.exec(select(challenges.ChallengeTerms)).one()
    terms.ip_terms, terms.language, terms.translations = "La ville reçoit une licence d’usage.", "fr", {}
    db.add(terms)
    view = _proposal(db, make, world)
    db.commit()
    sign_in(client, world["alice"].email)
    shown = _submit_in(client, view.proposal.id, "en")
    assert "These terms are written in French only: that text is the one you accept." in shown
    version = db.exec(select(ProposalVersion)).one()
    assert version.terms_language == "fr"
    assert version.terms_sha256 == hashlib.sha256("La ville reçoit une licence d’usage.".encode()).hexdigest()


# ---- labels, numbers, sizes, dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "size", "rows"),
    [("fr", "36,6 Kio", "1\u202f512 lignes"), ("en", "36.6 KiB", "1,512 rows"), ("ar", "36.6 ك.ب", "1,512 صفًّا")],
)
def test_sizes_and_counts_are_written_as_each_language_writes_them(language, size, rows):
    assert speaking(language, i18n.format_size, 37_478) == size
    shown = speaking(language, i18n.format_number, 1512)
    assert speaking(language, i18n.ngettext, "%(num)s row", "%(num)s rows", 1512, num=shown) == rows
    assert speaking(language, i18n.format_size, 5 * 1024**2) in ("5 Mio", "5 MiB", "5 م.ب")


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", "31 mars 2027, 18:00"), ("en", "Mar 31, 2027, 6:00\u202fPM"), ("ar", "، 6:00 م")],
)
def test_dates_carry_no_seconds_and_arabic_writes_its_comma(language, expected):
    deadline = datetime(2027, 3, 31, 17, 0, tzinfo=UTC)
    medium = speaking(language, i18n.format_datetime, deadline, "medium", "Africa/Casablanca")
    assert expected in medium and "18:00:00" not in medium and "6:00:00" not in medium
    zoned = speaking(language, i18n.format_datetime, deadline, "zoned", "Africa/Casablanca")
    assert ("," not in zoned and "،" in zoned) if language == "ar" else "،" not in zoned


@pytest.mark.parametrize(
    ("language", "access", "licence"),
    [
        ("fr", "Public : tout le monde", "Restreinte : usage limité au programme"),
        ("ar", "عام: للجميع", "مقيَّدة: للاستخدام في إطار البرنامج فقط"),
        ("en", "Public: anyone", "Restricted: programme use only"),
    ],
)
def test_access_and_licence_labels_are_translated(client, db, make, world, language, access, licence):
    actor = make.actor(world["sponsor"])
    view = challenges.get_challenge(db, actor, world["challenge"].id)
    dataset = datasets.create_dataset(db, actor, view, DatasetCreate(title="Points", licence="restricted"))
    db.commit()
    shown = page(client, f"/datasets/{dataset.dataset.id}", language).text
    assert access in shown and licence in shown
    assert licence in page(client, _challenge_page(db, world), language).text


# ---- French Excel CSVs ----------------------------------------------------------------------------------------


def _dataset(db, make, world):
    actor = make.actor(world["sponsor"])
    view = challenges.get_challenge(db, actor, world["challenge"].id)
    return actor, datasets.create_dataset(db, actor, view, DatasetCreate(title="Débits", licence="CC-BY-4.0"))


def test_a_french_excel_csv_is_kept_as_sent_analysed_and_its_reading_stated(client, db, make, world):
    actor, dataset = _dataset(db, make, world)
    stored = datasets.store_bytes(db, actor, dataset.dataset.id, "débits.csv", FRENCH_EXCEL)
    assert stored.sha256 == hashlib.sha256(FRENCH_EXCEL).hexdigest() and stored.row_count == 2
    assert stored.report["dialect"] == {"encoding": "cp1252", "delimiter": ";"}
    assert [f["name"] for f in stored.schema_fields] == ["réseau", "débit", "zone"]
    assert stored.schema_fields[1]["type"] == "number" and stored.preview[0][:2] == ["Maârif", 12.5]
    db.commit()
    shown = page(client, f"/datasets/{dataset.dataset.id}", "fr").text
    assert "Lu comme : séparé par des points-virgules, Windows-1252." in shown and "12,5" in shown
    assert "Read as: semicolon-separated, Windows-1252." in page(client, f"/datasets/{dataset.dataset.id}", "en").text


def test_a_utf16_csv_is_refused_with_a_message_saying_how_to_save_it(db, make, world):
    actor, dataset = _dataset(db, make, world)
    with pytest.raises(UnsupportedType) as refused:
        datasets.store_bytes(db, actor, dataset.dataset.id, "u.csv", "a;b\n1;2\n".encode("utf-16"))
    assert "CSV UTF-8" in refused.value.detail


def test_validation_messages_are_ours_and_translated(client, db, make, world):
    actor, dataset = _dataset(db, make, world)
    datasets.store_bytes(db, actor, dataset.dataset.id, "c.csv", b"a,b,c\n1,2,3\n4,5\n")
    db.commit()
    shown = page(client, f"/datasets/{dataset.dataset.id}", "fr").text
    assert "La ligne 3 n’a pas de valeur pour le champ « c » (colonne 3)." in shown
    assert "has a missing cell" not in shown
    arabic = page(client, f"/datasets/{dataset.dataset.id}", "ar").text
    assert "الصف 3 لا يحتوي على قيمة للحقل «c» (العمود 3)." in arabic


# ---- the proposals export -----------------------------------------------------------------------------------


def _submitted_and_closed(db, make, world):
    view = _proposal(db, make, world)
    proposals.submit_proposal(db, make.actor(world["alice"]), view, accept_terms=True)
    world["challenge"].deadline = utcnow() - timedelta(seconds=1)
    db.add(world["challenge"])
    db.flush()
    return challenges.get_challenge(db, make.actor(world["sponsor"]), world["challenge"].id)


def test_the_semicolon_export_speaks_french_in_the_programmes_time_zone(db, make, world):
    challenge = _submitted_and_closed(db, make, world)
    body = speaking("fr", exports.export_csv, db, make.actor(world["sponsor"]), challenge, separator="semicolon")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    header, row = rows[0], dict(zip(rows[0], rows[1], strict=False))
    assert header[:3] == ["Numéro de la proposition", "Startup", "Statut"]
    assert row["Statut"] == "Soumise" and row["Startup"] == "CasaFlow"
    submitted = db.exec(select(ProposalVersion)).one().submitted_at
    assert row["Date de soumission"] == submitted.astimezone(exports.ZoneInfo("Africa/Casablanca")).isoformat(
        timespec="seconds"
    )
    assert row["Date de soumission"].endswith("+01:00")
    english = speaking("en", exports.export_csv, db, make.actor(world["sponsor"]), challenge)
    assert english[1:].startswith("Proposal number,Startup,Status,")


def test_a_zip_export_without_attachments_says_so(client, db, make, world):
    challenge = _submitted_and_closed(db, make, world)
    db.commit()
    sign_in(client, world["sponsor"].email)
    response = client.get(f"/challenges/{challenge.challenge.id}/proposals.zip", headers={"Accept-Language": "fr"})
    assert response.status_code == 303 and response.headers["location"].endswith("/proposals")
    response = page(client, response.headers["location"], "fr")
    assert "Aucune proposition soumise n’a de pièce jointe" in response.text
    listing = page(client, f"/challenges/{challenge.challenge.id}/proposals", "fr").text
    assert "proposals.csv?separator=semicolon" in listing


# ---- isolated user text ---------------------------------------------------------------------------------------


def test_user_text_is_isolated_on_arabic_pages(client, db, world):
    shown = page(client, _challenge_page(db, world), "ar").text
    assert '<td dir="auto">% des points de collecte</td>' in shown
    assert "<bdi>Lydec</bdi>" in shown
