"""The queue on PostgreSQL: procrastinate, whose schema the migrations install (a versioned copy of its SQL).

Every task of the registry is registered with one procrastinate app, with its retries and backoff, and its
cron schedule when it is periodic. Jobs are deferred on the caller's own psycopg connection, inside its
transaction; the workers (`medina worker`) open their own pool. A procrastinate-only periodic task puts back
in the queue the jobs of workers that died (the SQLite runner's claims expire instead).
"""

from functools import lru_cache
from typing import Any, cast

import procrastinate
import psycopg
from procrastinate import jobs as procrastinate_jobs
from procrastinate import sql
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from procrastinate.sync_psycopg_connector import SyncPsycopgConnector
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.config import get_settings
from app.db import commit, open_session, utcnow
from app.jobs.registry import Task, load_tasks, run

SCHEMA_VERSION = "3.10.0"  # the procrastinate release whose schema migrations/procrastinate/ holds


def is_queue_object(name: str | None) -> bool:
    """Procrastinate's tables, which the models do not describe (for Alembic's comparison)."""
    return bool(name and name.startswith("procrastinate_"))


class Backoff(BaseRetryStrategy):
    def __init__(self, declared: Task) -> None:
        self.declared = declared

    def get_retry_decision(self, *, exception: BaseException, job: procrastinate_jobs.Job) -> RetryDecision | None:
        failed = job.attempts + 1  # procrastinate counts the earlier attempts
        if failed > self.declared.retries:
            return None
        return RetryDecision(retry_in={"seconds": self.declared.retry_delay(failed)})


def _runner(declared: Task) -> Any:
    def run_job(**arguments: Any) -> None:
        if declared.cron is not None:
            arguments.pop("timestamp", None)  # procrastinate passes a periodic job its scheduled time
        run(declared, arguments)

    run_job.__name__ = declared.name.replace(".", "_")
    return run_job


@lru_cache
def procrastinate_app() -> procrastinate.App:
    url = make_url(get_settings().resolved_database_url).set(drivername="postgresql")
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url.render_as_string(False)))
    for declared in load_tasks().values():
        registered = app.task(name=declared.name, retry=Backoff(declared))(_runner(declared))
        if declared.cron is not None:
            app.periodic(cron=declared.cron, periodic_id=declared.name)(registered)
    retry_stalled = app.task(name=RETRY_STALLED)(_retry_stalled_job)
    app.periodic(cron="*/10 * * * *", periodic_id=RETRY_STALLED)(retry_stalled)
    return app


# The SQLite runner's claims expire by themselves; procrastinate leaves the job of a worker that died "doing"
# until someone retries it: this periodic task does, every ten minutes.
RETRY_STALLED = "jobs.retry_stalled"
STALLED_SECONDS = 120  # a worker beats every 10 s


def _retry_stalled_job(timestamp: int | None = None) -> None:
    with open_session() as session:
        retry_stalled(session)
        commit(session)


def retry_stalled(session: Session) -> int:
    """Put back in the queue the jobs being done by workers that stopped beating (procrastinate's own queries,
    on the session's connection); how many."""
    connection = cast("psycopg.Connection[Any]", session.connection().connection.driver_connection)
    connector = SyncPsycopgConnector()  # no pool of its own: it runs the queries on the session's connection
    stalled = connector.execute_query_all_with_connection(
        connection,
        query=sql.queries["select_stalled_jobs_by_heartbeat"],
        queue=None,
        task_name=None,
        seconds_since_heartbeat=STALLED_SECONDS,
    )
    for job in stalled:
        connector.execute_query_one_with_connection(
            connection,
            query=sql.queries["retry_job"],
            job_id=job["id"],
            retry_at=utcnow(),
            new_priority=None,
            new_queue_name=None,
            new_lock=None,
        )
    return len(stalled)


def defer(session: Session, declared: Task, arguments: dict[str, Any]) -> None:
    connection = session.connection().connection.driver_connection
    procrastinate_app().tasks[declared.name].configure(connection=connection).defer(**arguments)


def work(*, until_empty: bool, concurrency: int) -> None:
    procrastinate_app().run_worker(wait=not until_empty, concurrency=concurrency, install_signal_handlers=True)
