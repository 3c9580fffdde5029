"""`medina import` keeps the published-deadline rule of the web and the API: a re-import that would move a
published challenge's deadline earlier, into the past or once passed is refused with a message naming the file
and the way out, and changes nothing; `--move-deadlines` is the explicit exception."""

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from app.challenges.models import Challenge, ChallengeChange
from app.db import make_engine
from app.importer import ImportFailed, import_folder
from tests.dbutil import fresh_database_url
from tests.forkserver import ForkServer
from tests.test_import import DEMO, ROOT, edit, organisations, problems, snapshot

__all__ = ["organisations"]  # the fixture, used by name

WATER = "fuites-reseau-eau.md"  # open until 2027-03-31
LIGHTING = "eclairage-hay-hassani.md"  # closed: its deadline, 2026-11-27, has passed
HINT = "To move it all the same, import with --move-deadlines."


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "casablanca-2017"
    shutil.copytree(DEMO, copy)
    return copy


def deadline_of(db: Session, slug: str) -> datetime:
    db.expire_all()
    return db.exec(select(Challenge.deadline).where(Challenge.slug == slug)).one()


def test_a_reimport_that_moves_a_published_deadline_into_the_past_is_refused_and_changes_nothing(
    db: Session, organisations: None, folder: Path
) -> None:
    import_folder(db, folder)
    before = snapshot(db)
    edit(folder / WATER, "deadline: 2027-03-31T18:00:00+01:00", "deadline: 2026-01-15T18:00:00+01:00")
    edit(folder / WATER, "qa_closes_at: 2027-03-15", "qa_closes_at: 2026-01-10")
    edit(folder / LIGHTING, "deadline: 2026-11-27T18:00:00+01:00", "deadline: 2027-01-29T18:00:00+01:00")
    edit(folder / "tram-rabattement-bus.md", "title: Faire venir", "title: Attirer")  # a valid edit beside them

    with pytest.raises(ImportFailed) as exc:
        import_folder(db, folder, shown="p")

    assert problems(exc) == [
        f"p/{LIGHTING}: deadline: The deadline has passed: it can no longer change. {HINT}",
        f"p/{WATER}: deadline: The deadline of a published challenge can only be moved later. {HINT}",
    ]
    assert snapshot(db) == before


def test_a_published_deadline_moved_earlier_but_still_ahead_is_refused_too(
    db: Session, organisations: None, folder: Path
) -> None:
    import_folder(db, folder)
    edit(folder / WATER, "deadline: 2027-03-31T18:00:00+01:00", "deadline: 2027-03-01T18:00:00+01:00")
    edit(folder / WATER, "qa_closes_at: 2027-03-15", "qa_closes_at: 2027-02-15")
    with pytest.raises(ImportFailed) as exc:
        import_folder(db, folder, shown="p")
    assert problems(exc) == [
        f"p/{WATER}: deadline: The deadline of a published challenge can only be moved later. {HINT}"
    ]


def test_a_published_deadline_moved_later_is_imported_without_the_flag(
    db: Session, organisations: None, folder: Path
) -> None:
    import_folder(db, folder)
    edit(folder / WATER, "deadline: 2027-03-31T18:00:00+01:00", "deadline: 2027-04-30T18:00:00+01:00")
    assert import_folder(db, folder).challenges_updated == ["fuites-reseau-eau"]
    assert deadline_of(db, "fuites-reseau-eau") == datetime(2027, 4, 30, 17, tzinfo=UTC)


def test_with_move_deadlines_the_files_move_published_deadlines_and_the_change_log_says_so(
    db: Session, organisations: None, folder: Path
) -> None:
    import_folder(db, folder)
    edit(folder / WATER, "deadline: 2027-03-31T18:00:00+01:00", "deadline: 2026-01-15T18:00:00+01:00")
    edit(folder / WATER, "qa_closes_at: 2027-03-15", "qa_closes_at: 2026-01-10")
    edit(folder / LIGHTING, "deadline: 2026-11-27T18:00:00+01:00", "deadline: 2027-01-29T18:00:00+01:00")

    result = import_folder(db, folder, move_deadlines=True)

    assert sorted(result.challenges_updated) == ["eclairage-hay-hassani", "fuites-reseau-eau"]
    assert deadline_of(db, "fuites-reseau-eau") == datetime(2026, 1, 15, 17, tzinfo=UTC)
    assert deadline_of(db, "eclairage-hay-hassani") == datetime(2027, 1, 29, 17, tzinfo=UTC)
    logged = sorted(tuple(c.fields) for c in db.exec(select(ChallengeChange)))
    assert logged == [("deadline",), ("deadline", "qa_closes_at")]


def test_a_draft_or_a_new_challenge_takes_the_files_deadline_whatever_it_is(
    db: Session, organisations: None, folder: Path
) -> None:
    """Only a published deadline is protected: an archived programme can still be imported as a record."""
    edit(folder / "tram-rabattement-bus.md", "status: published", "status: draft")
    edit(folder / WATER, "deadline: 2027-03-31T18:00:00+01:00", "deadline: 2017-06-30T18:00:00+01:00")
    edit(folder / WATER, "qa_closes_at: 2027-03-15", "qa_closes_at: 2017-06-15")
    import_folder(db, folder)
    assert deadline_of(db, "fuites-reseau-eau") == datetime(2017, 6, 30, 17, tzinfo=UTC)
    tram = folder / "tram-rabattement-bus.md"
    edit(tram, "deadline: 2027-03-31T18:00:00+01:00", "deadline: 2016-12-01T18:00:00+01:00")
    edit(tram, "qa_closes_at: 2027-03-15", "qa_closes_at: 2016-11-15")
    assert import_folder(db, folder).challenges_updated == ["tram-rabattement-bus"]


def test_medina_import_refuses_a_moved_deadline_and_takes_it_with_move_deadlines(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = fresh_database_url(f"deadlines_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}", tmp_path)
    env = {**os.environ, "MEDINA_DATABASE_URL": url, "MEDINA_DATA_DIR": str(tmp_path / "data"), "MEDINA_ENV": "test"}

    forks = ForkServer(env, ROOT)  # each command a process of its own, as tests/test_cli.py runs them
    request.addfinalizer(forks.close)

    def medina(*args: str) -> subprocess.CompletedProcess[str]:
        return forks.run(list(args), b"")

    assert medina("db", "upgrade").returncode == 0
    assert medina("demo").returncode == 0
    moved = tmp_path / "moved"
    shutil.copytree(DEMO, moved)
    edit(moved / WATER, "deadline: 2027-03-31T18:00:00+01:00", "deadline: 2026-01-15T18:00:00+01:00")
    edit(moved / WATER, "qa_closes_at: 2027-03-15", "qa_closes_at: 2026-01-10")
    engine = make_engine(url, pool_size=1)
    try:

        def deadline() -> object:
            with engine.connect() as conn:
                query = text("SELECT deadline, revision FROM challenge WHERE slug = 'fuites-reseau-eau'")
                return conn.execute(query).one()

        before = deadline()
        refused = medina("import", str(moved))
        assert refused.returncode == 1
        assert f"{WATER}: deadline: The deadline of a published challenge can only be moved later. {HINT}" in (
            refused.stderr
        )
        assert "nothing was imported" in refused.stderr
        assert deadline() == before

        taken = medina("import", str(moved), "--move-deadlines")
        assert taken.returncode == 0, taken.stderr
        assert "challenges: 0 created, 1 updated, 6 unchanged" in taken.stdout
        assert deadline() != before
    finally:
        engine.dispose()
