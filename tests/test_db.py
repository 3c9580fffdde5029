"""The schema exists only through migrations: no drift, and upgrade → downgrade → upgrade works.
SQLite connections get WAL, foreign keys and BEGIN IMMEDIATE so concurrent writers never hit SQLITE_BUSY."""

import threading

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

import app.models  # noqa: F401
from app.cli import alembic_config
from app.db import make_engine, metadata
from app.jobs.postgres import is_queue_object
from tests.dbutil import fresh_database_url


@pytest.fixture
def scratch_url(tmp_path):
    return fresh_database_url("migrations", tmp_path)


def test_migrations_round_trip_and_match_the_models(scratch_url):
    config = alembic_config(scratch_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = make_engine(scratch_url)
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    with engine.connect() as conn:
        opts = {"compare_type": True, "include_name": lambda name, type_, _: not is_queue_object(name)}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
        tables = set(inspect(conn).get_table_names())
    with pytest.raises(IntegrityError), engine.begin() as conn:  # the case-insensitive unique email index
        for email in ("Ana@Example.org", "ana@example.ORG"):
            conn.execute(
                text(
                    'INSERT INTO "user" (email, name, password_hash, is_active, is_platform_admin, created_at, '
                    "updated_at) VALUES (:e, 'Ana', 'x', true, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"e": email},
            )
    engine.dispose()
    assert diff == [], f"models and migrations differ; write a migration: {diff}"
    assert {"user", "organisation", "membership", "api_token", "audit_event"} <= tables
    command.check(config)  # the same check as `alembic check`


def test_sqlite_connections_are_configured(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    engine.dispose()


def test_concurrent_sqlite_writers_do_not_fail_with_busy(tmp_path):
    """Eight threads each read then write in one transaction; with plain BEGIN (deferred) some would fail
    with 'database is locked' when upgrading their read lock; BEGIN IMMEDIATE makes them queue instead."""
    engine = make_engine(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    errors: list[Exception] = []

    def bump() -> None:
        try:
            for _ in range(20):
                with engine.begin() as conn:
                    n = conn.execute(text("SELECT n FROM counter")).scalar_one()
                    conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        total = conn.execute(text("SELECT n FROM counter")).scalar_one()
    engine.dispose()
    assert errors == []
    assert total == 160  # no lost update either


def test_requests_wait_for_a_slot_and_an_upload_gives_its_slot_back_while_streaming(monkeypatch):
    """db_slot admits at most N requests to the database at once, waiting in the event loop; a streamed
    upload (between_transactions) commits and frees its slot while its body arrives, then takes one again."""
    import asyncio
    from types import SimpleNamespace

    from app import db

    monkeypatch.setattr(db, "_slot_count", lambda: 1)
    committed: list[str] = []

    async def scenario() -> list[str]:
        order: list[str] = []
        request = SimpleNamespace(state=SimpleNamespace())
        session = SimpleNamespace(commit=lambda: committed.append("commit"))

        async def other_request() -> None:
            async with db.db_slot():
                order.append("other request served")

        async with db.db_slot() as slot:
            request.state.db_slot = slot
            waiting = asyncio.create_task(other_request())
            await asyncio.sleep(0.05)
            order.append("upload holds the only slot")  # the other request is still waiting
            async with db.between_transactions(request, session)():
                await asyncio.wait_for(waiting, 1)  # served while the body streams in
                order.append("body streamed")
            assert slot.held
            order.append("upload writes its rows")
        return order

    outcome: dict = {}

    def run() -> None:  # in a thread of its own: a browser test may leave an event loop running in this one
        try:
            outcome["order"] = asyncio.run(scenario())
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert "error" not in outcome, outcome.get("error")
    order = outcome["order"]
    assert order == ["upload holds the only slot", "other request served", "body streamed", "upload writes its rows"]
    assert committed == ["commit"]


def test_a_discarded_attempt_takes_its_files_and_its_after_commit_callbacks_with_it(db):
    """A form re-rendered with its errors first discards what the request attempted: the rows, a file moved into
    place for them, and what was queued to run once they were committed (the request then commits its reads)."""
    from app.db import after_commit, discard_attempt, run_after_commit
    from app.files import staging

    db.connection()  # the request's transaction has begun (get_session begins it)
    staged = staging.write_bytes("stops.csv", b"stop,line\nA,1\n")
    path = staged.move_into_place(staging.new_storage_key())
    staging.remove_on_rollback(db, path)
    ran: list[str] = []
    after_commit(db, lambda: ran.append("removed the previous file"))
    discard_attempt(db)
    db.commit()
    run_after_commit(db)
    assert ran == [] and not path.exists()


def test_the_reads_that_record_something_begin_a_transaction_that_may_write(shared_app, db, make):
    """On SQLite a transaction that may write begins with BEGIN IMMEDIATE: the faces' routes say which reads record
    something (the CSV export's audit, an API token's last use); other reads begin a read transaction."""
    from fastapi.testclient import TestClient

    from app.db import may_write
    from tests.conftest import unit_of_work

    application, unit = shared_app
    challenge = make.published_challenge(make.organisation("partner"))
    token = make.token(make.user(), "read")[1]
    seen: dict[str, bool] = {}

    def recording(request):
        seen[request.url.path] = may_write(request)
        yield from unit_of_work(request, db)

    with unit.held_by(recording), TestClient(application, follow_redirects=False) as client:
        client.get(f"/challenges/{challenge.id}/proposals.csv")
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert client.get("/api/v1/challenges").status_code == 401  # a read without a token records nothing
        assert client.get("/challenges").status_code == 200
    assert seen == {
        f"/challenges/{challenge.id}/proposals.csv": True,
        "/api/v1/me": True,
        "/api/v1/challenges": False,
        "/challenges": False,
    }


def test_a_command_s_commit_runs_what_waited_for_it(tmp_path):
    """The commands commit with db.commit: what waited for the commit (a replaced file's removal) runs then, and
    not before; the request's unit of work does the same for the faces."""
    from sqlmodel import Session

    from app.db import after_commit, commit

    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    ran: list[str] = []
    with Session(engine) as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
        after_commit(session, lambda: ran.append("after"))
        assert ran == []
        commit(session)
        assert ran == ["after"]
        commit(session)  # a callback runs once
        assert ran == ["after"]
    engine.dispose()
