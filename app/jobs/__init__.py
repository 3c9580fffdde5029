"""The job queue: work that need not happen inside the request (emails first).

A task is declared with `@task` (a name, retries and backoff), made periodic with `@periodic` (a cron
schedule), and queued with `enqueue(session, task, **arguments)` in the caller's own transaction: a job is
queued only if that transaction commits. On PostgreSQL procrastinate holds the queue (its tables, deferred on
the request's own connection); on SQLite the `job` table does, and an in-process runner works it. `medina
worker` runs the workers on both; `medina serve` on SQLite runs one in the web process. See queue.py.
"""

from app.jobs.queue import enqueue
from app.jobs.registry import Task, periodic, task

__all__ = ["Task", "enqueue", "periodic", "task"]
