"""`medina import`: the demo programme loads, a second import changes nothing, an edited file updates its
challenge, a broken file is reported by file and field with nothing written; and the CLI end to end."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, func, select

from app.accounts import service as accounts
from app.audit.models import AuditEvent
from app.challenges.models import Challenge, ChallengeChange, ChallengeSponsor, ChallengeTerms
from app.challenges.terms import DEFAULT_IP_TERMS
from app.datasets.models import Dataset, DatasetFile
from app.db import make_engine
from app.demo import ORGANISATIONS
from app.files import staging
from app.importer import ImportFailed, import_folder, split_sections
from app.programmes.models import Programme, ProgrammePartner, ProgrammePhase
from tests.dbutil import fresh_database_url
from tests.forkserver import ForkServer

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "challenges" / "casablanca-2017"
TABLES = (Programme, ProgrammePartner, ProgrammePhase, Challenge, ChallengeSponsor, ChallengeTerms, ChallengeChange)
TABLES += (Dataset, DatasetFile, AuditEvent)  # type: ignore[assignment]


@pytest.fixture
def organisations(db: Session) -> None:
    for slug, name, kind, *_ in ORGANISATIONS:
        accounts.ensure_organisation(db, slug=slug, name=name, kind=kind)
    db.flush()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the demo programme that a test may edit."""
    copy = tmp_path / "casablanca-2017"
    shutil.copytree(DEMO, copy)
    return copy


def counts(db: Session) -> dict[str, int]:
    return {t.__name__: db.exec(select(func.count()).select_from(t)).one() for t in TABLES}


def snapshot(db: Session) -> dict[str, Any]:
    db.expire_all()
    return {
        "counts": counts(db),
        "challenges": {c.slug: (c.revision, c.updated_at, c.status) for c in db.exec(select(Challenge))},
        "programmes": {p.slug: p.updated_at for p in db.exec(select(Programme))},
        "datasets": {d.id: d.updated_at for d in db.exec(select(Dataset))},
    }


def edit(path: Path, old: str, new: str) -> None:
    content = path.read_text(encoding="utf-8")
    assert old in content, f"{old!r} not in {path.name}"
    path.write_text(content.replace(old, new, 1), encoding="utf-8")


def problems(exc: pytest.ExceptionInfo[ImportFailed]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_the_demo_programme_imports(db: Session, organisations: None) -> None:
    result = import_folder(db, DEMO, shown="challenges/casablanca-2017")
    assert result.programme_created
    assert len(result.challenges_created) == 7  # one of them closed: its deadline has passed
    assert (result.datasets_created, result.files_stored) == (7, 7)
    n = counts(db)
    assert (n["Programme"], n["ProgrammePartner"], n["ProgrammePhase"]) == (1, 5, 9)
    assert (n["Challenge"], n["ChallengeTerms"], n["ChallengeChange"]) == (7, 7, 0)
    assert (n["Dataset"], n["DatasetFile"]) == (7, 7)

    programme = db.exec(select(Programme).where(Programme.slug == "casablanca-2017")).one()
    assert programme.timezone == "Africa/Casablanca"
    water = db.exec(select(Challenge).where(Challenge.slug == "fuites-reseau-eau")).one()
    assert water.status == "published" and water.published_at is not None
    assert water.title.startswith("Détecter plus tôt les fuites")
    assert water.deadline.isoformat() == "2027-03-31T17:00:00+00:00"
    assert water.problem.startswith("Une part importante") and "Lydec ouvre" in water.context
    assert water.expected_outcome.startswith("Un outil")
    assert water.kpis[0] == {
        "name": "Rendement du réseau de distribution",
        "unit": "%",
        "baseline": "76",
        "target": "80",
    }
    assert water.test_sites[0]["latitude"] == pytest.approx(33.5822)
    assert water.themes == ["water", "environment"] and water.sdgs == [6, 9, 11]
    terms = {
        c.slug: t.ip_terms
        for c, t in db.exec(select(Challenge, ChallengeTerms).where(ChallengeTerms.challenge_id == Challenge.id))
    }
    assert terms["fuites-reseau-eau"] in DEFAULT_IP_TERMS.values()
    assert terms["qualite-construction"].startswith("La propriété intellectuelle")

    datasets = db.exec(select(Dataset).where(Dataset.challenge_id == water.id).order_by(col(Dataset.id))).all()
    assert [d.access for d in datasets] == ["registered", "registered"]
    assert all(d.synthetic and "synthétiques" in d.title and d.owner_id == water.lead_sponsor_id for d in datasets)
    for file in db.exec(select(DatasetFile)):
        source = DEMO / "data" / file.name
        stored = staging.path_for(file.storage_key)
        assert stored.read_bytes() == source.read_bytes()
        assert file.sha256 == hashlib.sha256(source.read_bytes()).hexdigest() and file.size == source.stat().st_size
        assert file.version == 1
        if file.name == "reseau-eau-fuites.csv":
            assert file.row_count == 3 and file.schema_fields and file.schema_fields[0]["name"] == "reference"
    assert {f.media_type for f in db.exec(select(DatasetFile))} == {"text/csv", "application/geo+json"}


def test_importing_twice_changes_nothing(db: Session, organisations: None) -> None:
    import_folder(db, DEMO)
    before = snapshot(db)
    result = import_folder(db, DEMO)
    assert not result.changed
    assert len(result.challenges_unchanged) == 7 and result.files_unchanged == 7
    assert snapshot(db) == before


def test_an_edited_file_updates_its_challenge_and_its_change_log(
    db: Session, organisations: None, folder: Path
) -> None:
    import_folder(db, folder)
    before = snapshot(db)
    water = folder / "fuites-reseau-eau.md"
    edit(water, "pour réduire les pertes", "pour réduire les pertes d'eau")
    edit(water, "baseline: 76, target: 80", "baseline: 76, target: 82")
    edit(water, "Lydec ouvre des données", "Lydec ouvre des données anonymisées")
    (folder / "data" / "reseau-eau-fuites.csv").write_text("reference,secteur\nF-001,Maârif-07\n", encoding="utf-8")

    result = import_folder(db, folder)

    assert result.challenges_updated == ["fuites-reseau-eau"] and len(result.challenges_unchanged) == 6
    after = snapshot(db)
    revision, updated_at, _ = after["challenges"]["fuites-reseau-eau"]
    assert revision == before["challenges"]["fuites-reseau-eau"][0] + 1
    assert updated_at > before["challenges"]["fuites-reseau-eau"][1]
    for slug, state in before["challenges"].items():
        if slug != "fuites-reseau-eau":
            assert after["challenges"][slug] == state
    change = db.exec(select(ChallengeChange)).one()
    assert change.fields == ["summary", "context", "kpis"]
    challenge = db.exec(select(Challenge).where(Challenge.slug == "fuites-reseau-eau")).one()
    assert challenge.kpis[0]["target"] == "82" and challenge.id == change.challenge_id
    versions = db.exec(
        select(DatasetFile.version).where(DatasetFile.name == "reseau-eau-fuites.csv").order_by(DatasetFile.version)
    ).all()
    assert list(versions) == [1, 2]  # the older version stays
    assert result.files_stored == 1 and result.files_unchanged == 6
    assert after["counts"]["Dataset"] == before["counts"]["Dataset"]

    assert not import_folder(db, folder).changed  # and the edited files are now the reference


def test_a_draft_is_edited_without_change_log_then_published(db: Session, organisations: None, folder: Path) -> None:
    tram = folder / "tram-rabattement-bus.md"
    edit(tram, "status: published", "status: draft")
    import_folder(db, folder)
    edit(tram, "title: Faire venir", "title: Attirer")
    import_folder(db, folder)
    challenge = db.exec(select(Challenge).where(Challenge.slug == "tram-rabattement-bus")).one()
    assert (challenge.status, challenge.revision, challenge.title[:7]) == ("draft", 2, "Attirer")
    assert counts(db)["ChallengeChange"] == 0

    edit(tram, "status: draft", "status: published")
    import_folder(db, folder)
    db.refresh(challenge)
    assert (challenge.status, challenge.revision) == ("published", 3) and challenge.published_at is not None
    assert counts(db)["ChallengeChange"] == 0

    edit(tram, "status: published", "status: draft")
    with pytest.raises(ImportFailed) as exc:
        import_folder(db, folder)
    assert problems(exc) == [
        f"{folder}/tram-rabattement-bus.md: status: A published challenge cannot go back to draft."
    ]


def test_new_ip_terms_of_a_published_challenge_are_a_new_version(
    db: Session, organisations: None, folder: Path
) -> None:
    import_folder(db, folder)
    edit(folder / "qualite-construction.md", "à des fins non commerciales", "à des fins pédagogiques")
    import_folder(db, folder)
    challenge = db.exec(select(Challenge).where(Challenge.slug == "qualite-construction")).one()
    assert challenge.terms_version == 2
    versions = db.exec(select(ChallengeTerms).where(ChallengeTerms.challenge_id == challenge.id)).all()
    assert sorted(t.version for t in versions) == [1, 2]
    assert db.exec(select(ChallengeChange)).one().fields == ["ip_terms"]


BROKEN = [
    pytest.param(
        "programme.yaml",
        "partners: [casa-tram,",
        "partners: [casablanca, casa-tram,",
        "programme.yaml: partners: “casablanca” is not a partner organisation.",
        id="a-city-as-partner",  # as the programme form and the API refuse it
    ),
    pytest.param(
        "fuites-reseau-eau.md",
        "deadline: 2027-03-31T18:00:00+01:00",
        "deadline: 2027-03-31 18:00",
        "fuites-reseau-eau.md: deadline: Give the time zone of the date, e.g. 2017-06-30T18:00:00+01:00.",
        id="deadline-without-offset",
    ),
    pytest.param(
        "collecte-dechets.md",
        "lead_sponsor: casablanca",
        "lead_sponsor: casablanka",
        "collecte-dechets.md: lead_sponsor: There is no organisation with the short name “casablanka”.",
        id="unknown-organisation",
    ),
    pytest.param(
        "wifi-espaces-publics.md",
        "title: Une connectivité publique utile dans les places et les parcs\n",
        "",
        "wifi-espaces-publics.md: title: This field is required.",
        id="missing-title",
    ),
    pytest.param(
        "securite-routiere-ecoles.md",
        "themes: [safety, mobility, public_space]",
        "themes: [safety, traffic]",
        "securite-routiere-ecoles.md: themes.1: Input should be 'mobility', 'energy', 'water', 'waste', "
        "'buildings', 'public_space', 'connectivity', 'citizen_services', 'safety', 'environment', 'economy' "
        "or 'health'",
        id="unknown-theme",
    ),
    pytest.param(
        "tram-rabattement-bus.md",
        "file: data/tram-montees-horaires.csv",
        "file: ../../../etc/passwd",
        "tram-rabattement-bus.md: datasets.0.file: The file must be inside the programme's folder.",
        id="file-outside-the-folder",
    ),
    pytest.param(
        "tram-rabattement-bus.md",
        "sdgs: [9, 11, 13]",
        "sdgs: [9, 11, 18]",
        "tram-rabattement-bus.md: sdgs.2: Input should be less than or equal to 17",
        id="sdg-out-of-range",
    ),
    pytest.param(
        "qualite-construction.md",
        "## Context",
        "## Contex",
        "qualite-construction.md: body: Unknown section “Contex”: use ## Problem, ## Context and ## Expected "
        "outcome (### for sub-headings).",
        id="unknown-section",
    ),
    pytest.param(
        "programme.yaml",
        "call:           {starts_on: 2026-11-02, ends_on: 2027-03-31}",
        "call:           {starts_on: 2027-11-02, ends_on: 2027-03-31}",
        "programme.yaml: phases.call: A phase cannot end before it starts.",
        id="phase-backwards",
    ),
    pytest.param(
        "programme.yaml",
        "operator: technopark",
        "operator: lydec",
        "programme.yaml: operator: “lydec” is not an operator organisation.",
        id="operator-of-the-wrong-kind",
    ),
    pytest.param(
        "tram-rabattement-bus.md",
        "title: Faire venir",
        "title: Attirer les voyageurs\ntitle: Faire venir",
        "tram-rabattement-bus.md: title: This field is given twice, on lines 2 and 3.",
        id="key-given-twice",
    ),
    pytest.param(
        "programme.yaml",
        "call:           {starts_on: 2026-11-02, ends_on: 2027-03-31}",
        "call:           {starts_on: 2026-11-02, ends_on: 2027-03-31, ends_on: 2027-03-30}",
        "programme.yaml: phases.call.ends_on: This field is given twice on line 18.",
        id="nested-key-given-twice",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "message"), BROKEN)
def test_a_broken_file_names_the_file_and_the_field_and_nothing_is_written(
    db: Session, organisations: None, folder: Path, name: str, old: str, new: str, message: str
) -> None:
    edit(folder / name, old, new)
    before = counts(db)
    with pytest.raises(ImportFailed) as exc:
        import_folder(db, folder, shown="challenges/casablanca-2017")
    assert problems(exc) == [f"challenges/casablanca-2017/{message}"]
    assert counts(db) == before


def test_a_broken_file_leaves_an_imported_programme_as_it_was(db: Session, organisations: None, folder: Path) -> None:
    import_folder(db, folder)
    before = snapshot(db)
    edit(folder / "tram-rabattement-bus.md", "title: Faire venir", "title: Attirer")  # a valid edit…
    edit(folder / "fuites-reseau-eau.md", "qa_closes_at: 2027-03-15", "qa_closes_at: 2027-04-15")  # …and a bad one
    with pytest.raises(ImportFailed) as exc:
        import_folder(db, folder, shown="x")
    assert problems(exc) == ["x/fuites-reseau-eau.md: qa_closes_at: Questions must close before the deadline."]
    assert snapshot(db) == before


def test_every_problem_is_reported_at_once(db: Session, organisations: None, folder: Path) -> None:
    edit(folder / "fuites-reseau-eau.md", "lead_sponsor: lydec", "lead_sponsor: [lydec")
    edit(folder / "collecte-dechets.md", "deadline: 2027-03-31T18:00:00+01:00", "deadline: bientôt")
    (folder / "Bad Name.md").write_text("no front matter\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as exc:
        import_folder(db, folder, shown="p")
    assert problems(exc) == [
        "p/Bad Name.md: The file must start with a YAML front matter between two '---' lines.",
        "p/collecte-dechets.md: deadline: Input should be a valid datetime or date, input is too short",
        "p/fuites-reseau-eau.md: This is not valid YAML (line 7): expected ',' or ']', but got ':'.",
    ]


def test_a_merge_may_give_a_key_again_and_an_anchor_is_checked_once() -> None:
    from app.importer import _load_yaml

    merged = "base: &base {title: A, summary: B}\nchallenge:\n  <<: *base\n  title: C\n"
    assert _load_yaml("f.yaml", merged) == (
        {"base": {"title": "A", "summary": "B"}, "challenge": {"title": "C", "summary": "B"}},
        [],
    )
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join([f'*{chr(97 + n)}'] * 10)}]\n" for n in range(6)
    )
    data, found = _load_yaml("f.yaml", bomb + "a2: 1\nb: 2\n")
    assert data is None and [str(p) for p in found] == ["f.yaml: b: This field is given twice, on lines 2 and 9."]


def test_sections_ignore_headings_in_code_and_refuse_text_before_the_problem() -> None:
    body = "## Problème\n\nA\n\n```\n## not a heading\n```\n\n## Résultat attendu\nB\n"
    assert split_sections(body) == {"problem": "A\n\n```\n## not a heading\n```", "expected_outcome": "B"}
    with pytest.raises(ValueError, match="Start the text with a ## Problem heading"):
        split_sections("Intro\n## Problem\nA")
    with pytest.raises(ValueError, match="appears twice"):
        split_sections("## Problem\nA\n## Problem\nB")


@pytest.mark.database_independent  # the command line's output and exit codes; the import itself runs on both above
def test_medina_import_and_demo_from_the_command_line(tmp_path: Path) -> None:
    url = fresh_database_url(f"import_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}", tmp_path)
    env = {**os.environ, "MEDINA_DATABASE_URL": url, "MEDINA_DATA_DIR": str(tmp_path / "data"), "MEDINA_ENV": "test"}

    # the console script starts from scratch once; the other commands run in forks of a process that imported
    # the command line once (tests/forkserver.py), as tests/test_cli.py's do
    started = subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    forks = ForkServer(env, ROOT)

    def medina(*args: str) -> subprocess.CompletedProcess[str]:
        return forks.run(list(args), b"")

    refused = medina("import", "challenges/casablanca-2017")
    assert refused.returncode == 1
    assert "challenges/casablanca-2017/programme.yaml: operator: There is no organisation" in refused.stderr
    assert "nothing was imported" in refused.stderr

    first = medina("demo")
    assert first.returncode == 0, first.stderr
    assert "demo loaded: 11 organisations and 11 users created" in first.stdout
    assert "programme casablanca-2017: created" in first.stdout
    assert "challenges: 7 created, 0 updated, 0 unchanged" in first.stdout
    assert "operator@medina.test" in first.stdout

    engine = make_engine(url, pool_size=1)
    try:

        def state() -> list[Any]:
            with engine.connect() as conn:
                rows = [conn.execute(text(f'SELECT count(*) FROM "{t.__tablename__}"')).scalar() for t in TABLES]  # noqa: S608
                return [*rows, *conn.execute(text("SELECT slug, revision, updated_at FROM challenge ORDER BY slug"))]

        before = state()
        second = medina("demo")
        assert second.returncode == 0, second.stderr
        assert "challenges: 0 created, 0 updated, 7 unchanged" in second.stdout
        assert "files: 0 stored, 7 unchanged" in second.stdout
        assert state() == before

        broken = tmp_path / "broken"
        shutil.copytree(DEMO, broken)
        edit(broken / "wifi-espaces-publics.md", "themes: [", "themes: [nope, ")
        edit(broken / "tram-rabattement-bus.md", "title: Faire venir", "title: Attirer")
        result = medina("import", str(broken))
        assert result.returncode == 1
        assert "wifi-espaces-publics.md: themes.0: Input should be" in result.stderr
        assert state() == before

        (broken / "wifi-espaces-publics.md").write_text(
            (DEMO / "wifi-espaces-publics.md").read_text(encoding="utf-8"), encoding="utf-8"
        )
        dry = medina("import", str(broken), "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert "1 updated" in dry.stdout and "dry run" in dry.stdout
        assert state() == before
    finally:
        engine.dispose()
        forks.close()
