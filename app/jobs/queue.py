"""Queueing a job in the caller's transaction, on either database.

Rules:
- A job is queued in the same transaction as the change that asks for it: a request or command that rolls
  back queues nothing, and one that commits has its jobs queued, whichever process it runs in (the web app,
  a `medina` command).
- PostgreSQL: procrastinate's `procrastinate_defer_jobs` on the session's own connection. SQLite: a row of
  the `job` table, and the in-process runner is woken once the transaction commits.
- MEDINA_JOBS_EAGER (the tests): nothing is queued; the job runs in the caller's process on the caller's
  session right after its transaction commits, as if a worker had taken it at once.
"""

from typing import Any

from sqlmodel import Session

from app.config import get_settings
from app.db import after_commit, commit
from app.jobs import postgres, runner
from app.jobs.models import Job
from app.jobs.registry import Task


def on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def enqueue(session: Session, declared: Task, **arguments: Any) -> None:
    """Queue `declared` with these JSON-serialisable arguments, to run once the session's transaction commits."""
    if get_settings().jobs_eager:
        after_commit(session, lambda: _run_on(session, declared, arguments))
    elif on_postgresql(session):
        postgres.defer(session, declared, arguments)
    else:
        session.add(Job(task=declared.name, arguments=arguments))
        session.flush()
        after_commit(session, runner.wake)


def _run_on(session: Session, declared: Task, arguments: dict[str, Any]) -> None:
    declared(session, **arguments)
    commit(session)
