"""The job queue on both databases (app/jobs): a job is queued with its transaction or not at all, failures are
tried again, a worker delivers the email that a command queued, the housekeeping is periodic.

Most of the suite runs jobs eagerly (MEDINA_JOBS_EAGER); these tests switch that off to see the queue itself.
The worker tests commit for real (a worker opens its own sessions), so they use no `db` and empty the queue
after themselves."""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from app import jobs
from app.config import get_settings
from app.db import open_session, run_after_commit, utcnow
from app.jobs import housekeeping, postgres, runner
from app.jobs.models import Job
from app.jobs.queue import on_postgresql
from app.jobs.registry import TASKS, load_tasks
from tests.dbutil import fresh_database_url
from tests.test_email import smtp_server  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _queued_for_real(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "jobs_eager", False)


def queued(session: Session) -> list[tuple[str, dict[str, Any], str, int]]:
    """Each job of the queue but the periodic ones (a worker queues those when due): task, arguments, status,
    attempts."""
    if on_postgresql(session):
        sql = (
            "SELECT task_name, args, status::text, attempts FROM procrastinate_jobs AS job WHERE NOT EXISTS "
            "(SELECT 1 FROM procrastinate_periodic_defers AS p WHERE p.job_id = job.id) ORDER BY id"
        )
        return [(r[0], r[1], r[2], r[3]) for r in session.execute(text(sql))]
    rows = session.exec(select(Job).where(col(Job.periodic_key).is_(None)).order_by(col(Job.id)))
    return [(j.task, j.arguments, j.status, j.attempts) for j in rows]


def work_until_empty() -> None:
    if get_settings().resolved_database_url.startswith("sqlite"):
        runner.work(until_empty=True, concurrency=1)
    else:  # procrastinate runs its own event loop: in a thread of its own, as a browser test may leave one here
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(postgres.work, until_empty=True, concurrency=1).result()


@pytest.fixture
def committed(engine: Engine) -> Iterator[None]:
    """For tests whose jobs really commit: the queue is emptied afterwards."""
    yield
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM job"))
        if engine.dialect.name == "postgresql":
            conn.execute(text("DELETE FROM procrastinate_jobs"))
            conn.execute(text("DELETE FROM procrastinate_workers"))
            conn.execute(text("DELETE FROM procrastinate_periodic_defers"))


CALLS: list[dict[str, Any]] = []


@pytest.fixture
def flaky() -> Iterator[jobs.Task]:
    """A task that fails its first `failures` attempts; it runs in a worker of this process."""

    @jobs.task("tests.flaky", retries=2, backoff=0)
    def flaky_task(session: Session, failures: int) -> None:
        CALLS.append({"failures": failures})
        if len(CALLS) <= failures:
            raise RuntimeError("the server is down")

    CALLS.clear()
    postgres.procrastinate_app.cache_clear()  # registers the tasks known now
    yield flaky_task
    TASKS.pop("tests.flaky")
    postgres.procrastinate_app.cache_clear()


def test_a_job_is_queued_when_its_transaction_commits_and_not_when_it_rolls_back(db: Session, flaky) -> None:
    jobs.enqueue(db, flaky, failures=0)
    db.rollback()
    assert queued(db) == []

    jobs.enqueue(db, flaky, failures=1)
    db.commit()
    assert queued(db) == [("tests.flaky", {"failures": 1}, "todo", 0)]
    assert CALLS == []  # queued, not run


def test_a_failed_job_is_tried_again_until_it_succeeds_or_its_retries_run_out(committed, flaky) -> None:
    with open_session() as session:
        jobs.enqueue(session, flaky, failures=2)
        session.commit()
    work_until_empty()
    with open_session() as session:
        assert queued(session) == [("tests.flaky", {"failures": 2}, "succeeded", 3)]
        session.execute(text("DELETE FROM procrastinate_jobs" if on_postgresql(session) else "DELETE FROM job"))
        CALLS.clear()
        jobs.enqueue(session, flaky, failures=5)
        session.commit()
    work_until_empty()
    with open_session() as session:
        assert queued(session) == [("tests.flaky", {"failures": 5}, "failed", 3)]
    assert len(CALLS) == 3  # the first try and two retries


def test_on_sqlite_a_retry_waits_for_the_backoff_doubled_each_time(committed, engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the SQLite runner; procrastinate applies the same Backoff (tests below)")

    @jobs.task("tests.down", retries=3, backoff=30)
    def down(session: Session) -> None:
        raise OSError("connection refused")

    try:
        with open_session() as session:
            jobs.enqueue(session, down)
            session.commit()
        before = utcnow()
        runner.work(until_empty=True, concurrency=1)  # the first try fails; the retry is not due yet
        with open_session() as session:
            job = session.exec(select(Job)).one()
        assert (job.status, job.attempts) == ("todo", 1)
        assert job.last_error is not None and "connection refused" in job.last_error
        assert before + timedelta(seconds=29) < job.run_at < utcnow() + timedelta(seconds=31)
        assert [down.retry_delay(n) for n in (1, 2, 3)] == [30, 60, 120]
    finally:
        TASKS.pop("tests.down")


def test_procrastinate_retries_a_task_with_its_backoff(flaky) -> None:
    strategy = postgres.procrastinate_app().tasks["tests.flaky"].retry_strategy
    assert isinstance(strategy, postgres.Backoff)
    assert strategy.declared is flaky


def test_an_email_queued_outside_a_request_is_delivered_by_medina_worker(tmp_path: Path, smtp_server) -> None:  # noqa: F811
    url = fresh_database_url(f"jobs_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}", tmp_path)
    env = {**os.environ, "MEDINA_DATABASE_URL": url, "MEDINA_DATA_DIR": str(tmp_path / "data"), "MEDINA_ENV": "test"}
    env.pop("MEDINA_JOBS_EAGER")
    env.pop("MEDINA_SMTP_URL", None)

    def run(*args: str, stdin: str = "", **extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", *args], input=stdin, env={**env, **extra}, cwd=ROOT, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    medina = "from app.cli import main; main()"
    run(medina, "db", "upgrade")
    run(medina, "user", "create", "ana@example.org", "--name", "Ana", "--password-stdin", stdin="a long password\n")
    # what a command's unit of work does: its own session, one commit, no web request around it
    run(
        "from app.db import open_session; from app.accounts import auth; from app.security.actor import ANONYMOUS\n"
        "with open_session() as session:\n"
        "    auth.request_password_reset(session, ANONYMOUS, 'ana@example.org')\n"
        "    session.commit()"
    )
    assert smtp_server.received == []  # queued, not sent

    run(medina, "worker", "--until-empty", MEDINA_SMTP_URL=smtp_server.url)

    assert [r.rcpt_tos for r in smtp_server.received] == [["ana@example.org"]]
    body = smtp_server.received[0].message.get_body(preferencelist=("plain",)).get_content()
    assert "/password/reset/" in body  # the live link, sealed in the job, reaches the email
    check = (
        "from sqlalchemy import text; from app.db import open_session\n"
        "with open_session() as s:\n"
        "    print(s.execute(text('SELECT count(*) FROM outbox_message WHERE sent_at IS NOT NULL')).scalar())"
    )
    assert run(check).strip() == "1"


def test_the_purge_of_finished_jobs_is_a_daily_periodic_task() -> None:
    tasks = load_tasks()
    assert tasks["jobs.purge_finished"].cron == "17 3 * * *"
    assert tasks["notifications.deliver_email"].retries > 0
    registered = postgres.procrastinate_app().periodic_registry.periodic_tasks
    assert sorted((p.task.name, p.cron) for p in registered.values()) == [
        ("jobs.purge_finished", "17 3 * * *"),
        ("jobs.retry_stalled", "*/10 * * * *"),
        ("jury.close_due_rounds", "* * * * *"),
    ]


def test_on_postgresql_the_job_of_a_worker_that_died_goes_back_to_the_queue(db: Session, flaky) -> None:
    if not on_postgresql(db):
        pytest.skip("procrastinate's stalled jobs; the SQLite runner's claims expire (test below)")
    jobs.enqueue(db, flaky, failures=0)
    jobs.enqueue(db, flaky, failures=1)
    workers = "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - :silent) RETURNING id"
    dead = db.execute(text(workers), {"silent": timedelta(hours=1)}).scalar_one()
    alive = db.execute(text(workers), {"silent": timedelta(0)}).scalar_one()
    for failures, worker in ((0, dead), (1, alive)):
        db.execute(
            text("UPDATE procrastinate_jobs SET status = 'doing', worker_id = :worker WHERE args->>'failures' = :f"),
            {"worker": worker, "f": str(failures)},
        )

    assert postgres.retry_stalled(db) == 1

    assert sorted((args["failures"], status) for _, args, status, _ in queued(db)) == [(0, "todo"), (1, "doing")]


def test_on_sqlite_a_job_whose_worker_died_is_taken_again_once_its_claim_has_run_out(committed, engine, flaky) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the SQLite runner's claims")
    with open_session() as session:
        jobs.enqueue(session, flaky, failures=0)
        session.commit()
    taken = runner.claim(utcnow())
    assert taken is not None and runner.claim(utcnow()) is None  # claimed: nobody else takes it
    again = runner.claim(utcnow() + runner.CLAIM + timedelta(seconds=1))
    assert again is not None and (again.id, again.attempts) == (taken.id, 2)


def test_on_sqlite_two_workers_queue_a_periodic_run_once(committed, engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the SQLite runner's schedule; procrastinate schedules its own")
    start = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    tasks = load_tasks()
    first, second = runner.Schedule(tasks, start), runner.Schedule(tasks, start)
    first.queue_due(start + timedelta(hours=2))  # before 03:17
    assert_jobs: list[Job]
    with open_session() as session:
        assert session.exec(select(Job).where(Job.task == "jobs.purge_finished")).all() == []
    for schedule in (first, second, first):
        schedule.queue_due(start + timedelta(hours=4))
    with open_session() as session:
        assert_jobs = list(session.exec(select(Job)))
    assert [(j.task, j.run_at) for j in assert_jobs if j.task == "jobs.purge_finished"] == [
        ("jobs.purge_finished", start.replace(hour=3, minute=17))
    ]
    each_minute = [j.run_at for j in assert_jobs if j.task == "jury.close_due_rounds"]
    assert len(each_minute) == len(set(each_minute))  # two workers never queue the same run twice


def test_the_purge_removes_jobs_finished_a_week_ago_only(db: Session, flaky) -> None:
    for failures in (0, 1, 2):
        jobs.enqueue(db, flaky, failures=failures)
    db.flush()
    old, now = utcnow() - timedelta(days=8), utcnow()
    if on_postgresql(db):
        db.execute(text("UPDATE procrastinate_jobs SET status = 'succeeded' WHERE args->>'failures' IN ('0', '1')"))
        db.execute(
            text("UPDATE procrastinate_events SET at = :old FROM procrastinate_jobs j WHERE j.id = job_id "
                 "AND j.args->>'failures' IN ('0', '2')"),
            {"old": old},
        )  # fmt: skip
    else:
        for job in db.exec(select(Job)):
            failures = job.arguments["failures"]
            job.status = "succeeded" if failures < 2 else "todo"
            job.finished_at = old if failures == 0 else now if failures == 1 else None
            db.add(job)
        db.flush()

    housekeeping.purge_finished_jobs(db)

    assert sorted(args["failures"] for _, args, _, _ in queued(db)) == [1, 2]  # recent, and not finished


def test_on_sqlite_the_web_process_worker_runs_a_job_as_soon_as_its_request_commits(committed, engine, flaky) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("`medina serve` works the queue in-process on SQLite only")
    stop = runner.start_in_process()
    try:
        with open_session() as session:
            jobs.enqueue(session, flaky, failures=0)
            session.commit()
            run_after_commit(session)  # what the request's session dependency does: wakes the worker
        deadline = time.monotonic() + 1.5  # under the worker's poll interval: it was woken
        while CALLS == [] and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop()
    assert CALLS == [{"failures": 0}]
    with open_session() as session:
        assert queued(session) == [("tests.flaky", {"failures": 0}, "succeeded", 1)]


def test_medina_serve_runs_a_worker_in_each_web_process_on_sqlite_only(monkeypatch: pytest.MonkeyPatch, engine) -> None:
    import uvicorn

    from app import cli

    started: list[bool] = []
    monkeypatch.delenv("MEDINA_JOBS_IN_PROCESS", raising=False)
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.append(get_settings().jobs_in_process))
    try:
        cli.serve(host="127.0.0.1", port=8000, workers=2, reload=False)
    finally:
        os.environ.pop("MEDINA_JOBS_IN_PROCESS", None)
        get_settings.cache_clear()
    assert started == [engine.dialect.name == "sqlite"]


def test_the_web_app_starts_its_worker_with_the_app_and_stops_it_with_the_app(app, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    events: list[str] = []
    monkeypatch.setattr(get_settings(), "jobs_in_process", True)

    def start() -> Callable[[], None]:
        events.append("started")
        return lambda: events.append("stopped")

    monkeypatch.setattr(runner, "start_in_process", start)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert events == ["started"]
    assert events == ["started", "stopped"]


def test_on_sqlite_a_long_running_worker_outlives_a_database_error(monkeypatch, engine, caplog) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the SQLite runner")
    stop = threading.Event()
    looks: list[str] = []

    def claim(now: object) -> None:
        looks.append("look")
        if len(looks) == 1:
            raise OperationalError("SELECT", {}, Exception("database is locked"))
        stop.set()

    monkeypatch.setattr(runner, "claim", claim)
    monkeypatch.setattr(runner, "POLL_SECONDS", 0.01)
    runner.work(until_empty=False, concurrency=1, stop=stop)
    assert looks == ["look", "look"]  # it looked again after the error
    assert "could not reach the queue" in caplog.text


def test_on_sqlite_worker_until_empty_fails_on_a_database_error(monkeypatch, engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the SQLite runner")

    def claim(now: object) -> None:
        raise OperationalError("SELECT", {}, Exception("no such table: job"))

    monkeypatch.setattr(runner, "claim", claim)
    with pytest.raises(OperationalError):
        runner.work(until_empty=True, concurrency=2)
