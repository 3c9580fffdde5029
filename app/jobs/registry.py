"""The tasks the workers know: each declared once with its name, retries and backoff, and its cron schedule
when it is periodic. The same declaration serves both queues (procrastinate and the SQLite runner)."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import import_module
from typing import Any

from sqlmodel import Session

from app.db import commit, open_session

# Modules that declare tasks: a worker imports them all before it takes a job.
TASK_MODULES = ("app.jobs.housekeeping", "app.notifications.service", "app.jury.service")


@dataclass(frozen=True)
class Task:
    """A unit of work run by a worker in its own transaction: `func(session, **arguments)`; the worker commits
    when it returns. A failure is tried again `retries` times, `backoff` seconds later, doubled each time."""

    name: str
    func: Callable[..., None]
    retries: int = 0
    backoff: int = 60
    cron: str | None = None

    def __call__(self, session: Session, **arguments: Any) -> None:
        self.func(session, **arguments)

    def retry_delay(self, attempts: int) -> int:
        """Seconds to wait before the next try, after `attempts` tries that failed."""
        return self.backoff * 2 ** max(attempts - 1, 0)


TASKS: dict[str, Task] = {}


def task(name: str, *, retries: int = 0, backoff: int = 60) -> Callable[[Callable[..., None]], Task]:
    def register(func: Callable[..., None]) -> Task:
        if name in TASKS and TASKS[name].func is not func:
            raise ValueError(f"two tasks are named {name}")
        TASKS[name] = declared = Task(name=name, func=func, retries=retries, backoff=backoff)
        return declared

    return register


def periodic(cron: str) -> Callable[[Task], Task]:
    """Run the task on a cron schedule (minute hour day month weekday, UTC), above `@task`."""

    def schedule(declared: Task) -> Task:
        TASKS[declared.name] = scheduled = replace(declared, cron=cron)
        return scheduled

    return schedule


def load_tasks() -> dict[str, Task]:
    for module in TASK_MODULES:
        import_module(module)
    return TASKS


def run(declared: Task, arguments: dict[str, Any]) -> None:
    """Run one job in its own unit of work: committed when the task returns (then what waited for the commit
    runs), rolled back when it raises."""
    with open_session() as session:
        declared(session, **arguments)
        commit(session)
