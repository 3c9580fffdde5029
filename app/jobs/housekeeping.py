"""Housekeeping of the queue itself: finished jobs are purged after KEEP, every night."""

from datetime import timedelta

from sqlalchemy import delete, text
from sqlmodel import Session, col

from app.db import utcnow
from app.jobs.models import FINISHED, Job
from app.jobs.registry import periodic, task

KEEP = timedelta(days=7)

# procrastinate keeps a job's times in its events: a job is purged when none is more recent than the cutoff
_PURGE_PROCRASTINATE = text(
    "DELETE FROM procrastinate_jobs AS job"
    " WHERE job.status IN ('succeeded', 'failed', 'cancelled', 'aborted')"
    " AND NOT EXISTS (SELECT 1 FROM procrastinate_events AS event WHERE event.job_id = job.id AND event.at >= :cutoff)"
)


@periodic("17 3 * * *")
@task("jobs.purge_finished")
def purge_finished_jobs(session: Session) -> None:
    cutoff = utcnow() - KEEP
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_PURGE_PROCRASTINATE, {"cutoff": cutoff})
    else:
        session.execute(delete(Job).where(col(Job.status).in_(FINISHED), col(Job.finished_at) < cutoff))
