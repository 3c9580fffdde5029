"""The queue on SQLite: worker threads take due jobs from the `job` table, one claim per transaction (BEGIN
IMMEDIATE queues the claims of several workers), and queue the periodic jobs when their time comes.

`medina worker` runs them in its own process; `medina serve` runs one in the web process (MEDINA_JOBS_IN_PROCESS),
woken as soon as a request's transaction has queued a job, so that `make run` needs nothing else. A claim
lasts CLAIM: a job whose worker died while doing it is taken again once its claim has run out.
"""

import logging
import signal
import threading
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta

from croniter import croniter
from sqlalchemy import and_, or_
from sqlmodel import col, select

from app.db import insert_unique, open_session, utcnow
from app.jobs.models import DOING, FAILED, SUCCEEDED, TODO, Job
from app.jobs.registry import Task, load_tasks, run

log = logging.getLogger(__name__)

CLAIM = timedelta(minutes=15)
POLL_SECONDS = 2.0
_wakeup = threading.Event()


def wake() -> None:
    """Tell this process's workers that a job was queued (others find it at their next poll)."""
    _wakeup.set()


def claim(now: datetime) -> Job | None:
    """The next due job, marked as being done by the caller; None when no job is due. An idle worker's look
    is a read transaction: only a claim takes SQLite's write lock."""
    due = or_(
        and_(col(Job.status) == TODO, col(Job.run_at) <= now),
        and_(col(Job.status) == DOING, col(Job.claimed_until) < now),
    )
    next_due = select(Job).where(due).order_by(col(Job.run_at), col(Job.id)).limit(1)
    with open_session(write=False) as session:
        if session.exec(next_due).first() is None:
            return None
    with open_session() as session:
        job = session.exec(next_due).first()  # again under the write lock: another worker may have taken it
        if job is None:
            return None
        job.status, job.attempts, job.claimed_until = DOING, job.attempts + 1, now + CLAIM
        session.add(job)
        session.commit()
        return job


def run_claimed(job: Job, tasks: dict[str, Task]) -> None:
    declared = tasks.get(job.task)
    try:
        if declared is None:
            raise LookupError(f"no task named {job.task!r}")
        run(declared, job.arguments)
    except Exception:
        log.exception("job %s (%s) failed on attempt %s", job.id, job.task, job.attempts)
        _finish(job, declared, traceback.format_exc(limit=5))
    else:
        _finish(job, declared, None)
        log.info("job %s (%s) done", job.id, job.task)


def _finish(job: Job, declared: Task | None, error: str | None) -> None:
    now = utcnow()
    with open_session() as session:
        row = session.get(Job, job.id)
        if row is None:
            return
        row.claimed_until = None
        if error is None:
            row.status, row.finished_at = SUCCEEDED, now
        elif declared is not None and row.attempts <= declared.retries:
            later = now + timedelta(seconds=declared.retry_delay(row.attempts))
            row.status, row.run_at, row.last_error = TODO, later, error
        else:
            row.status, row.finished_at, row.last_error = FAILED, now, error
        session.add(row)
        session.commit()


class Schedule:
    """The next run of each periodic task, from the worker's start on (runs missed while no worker ran are not
    made up). Two workers queue a run once: its periodic_key is unique."""

    def __init__(self, tasks: dict[str, Task], since: datetime) -> None:
        self.crons = {t.name: t.cron for t in tasks.values() if t.cron is not None}
        self.next = {name: croniter(cron, since).get_next(datetime) for name, cron in self.crons.items()}
        self.lock = threading.Lock()

    def queue_due(self, now: datetime) -> None:
        with self.lock:
            for name, at in self.next.items():
                if at > now:
                    continue
                with open_session() as session:
                    insert_unique(session, Job(task=name, run_at=at, periodic_key=f"{name}@{at.isoformat()}"))
                    session.commit()
                self.next[name] = croniter(self.crons[name], now).get_next(datetime)


def _stop(stop: threading.Event) -> None:
    stop.set()
    wake()


def work(*, until_empty: bool, concurrency: int, stop: threading.Event | None = None) -> None:
    """Run `concurrency` workers until `stop` is set (or Ctrl+C), or, with `until_empty`, until no job is due."""
    stop = stop or threading.Event()
    tasks = load_tasks()
    schedule = Schedule(tasks, utcnow())

    def step() -> bool:
        """Do one due job; False when none was due."""
        if not until_empty:
            schedule.queue_due(utcnow())
        job = claim(utcnow())
        if job is not None:
            run_claimed(job, tasks)
        return job is not None

    def loop() -> None:
        while not stop.is_set():
            try:
                busy = step()
            except Exception:
                if until_empty:  # a script wants the failure
                    raise
                # the database is away or busy beyond its timeout: a long-running worker waits and goes on
                log.exception("the job worker could not reach the queue; trying again in %s s", POLL_SECONDS)
                stop.wait(POLL_SECONDS)
                continue
            if busy:
                continue
            if until_empty:
                return
            _wakeup.wait(POLL_SECONDS)
            _wakeup.clear()

    errors: list[BaseException] = []

    def guarded_loop() -> None:
        try:
            loop()
        except BaseException as exc:  # handed to the caller (`medina worker --until-empty` exits non-zero)
            errors.append(exc)
            _stop(stop)

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda *_: _stop(stop)) if in_main else None  # SIGTERM: a clean stop
    threads = [threading.Thread(target=guarded_loop, name=f"medina-jobs-{n}", daemon=True) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=1.0)
    except KeyboardInterrupt:
        _stop(stop)
        for thread in threads:
            thread.join()
    finally:
        if in_main and previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if errors:
        raise errors[0]


def start_in_process() -> Callable[[], None]:
    """Start one worker in a thread of this process; the function returned stops it (after its current job)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=work, kwargs={"until_empty": False, "concurrency": 1, "stop": stop}, name="medina-jobs", daemon=True
    )
    thread.start()

    def stop_worker() -> None:
        _stop(stop)
        thread.join(timeout=30)

    return stop_worker
