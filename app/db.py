"""Database engine, SQLite connection pragmas, naming convention, UTC timestamps and the request session.

SQLite is the embedded default. Every connection gets WAL, foreign keys and a busy timeout; the driver's own
transaction handling is switched off and we emit BEGIN ourselves, BEGIN IMMEDIATE for sessions that may
write, so that concurrent writers queue on the busy timeout instead of failing with SQLITE_BUSY when a
read transaction tries to upgrade to a write lock.
"""

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel
from starlette.concurrency import run_in_threadpool

from app.config import get_settings

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata

WRITE_OPTION = "medina_write"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _translate(text: str | None, source: str, target: str) -> str | None:
    """SQL's translate(text, source, target), which PostgreSQL has and SQLite lacks (app/search.py folds
    accents with it): each character of `source` in `text` becomes the one of `target` at the same place."""
    return None if text is None else text.translate(str.maketrans(source, target[: len(source)]))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, see below
        dbapi_connection.create_function("translate", 3, _translate, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 15}, pool_size=pool_size, max_overflow=pool_size
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(url, pool_size=settings.db_pool_size)


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction has committed (e.g. to send an email)."""
    session.info.setdefault("after_commit", []).append(callback)


def run_after_commit(session: Session) -> None:
    """Run the callbacks queued by after_commit. The data is committed already: a failing callback is
    logged and must not turn the answer into an error, nor stop the others."""
    callbacks = session.info.pop("after_commit", [])
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("after-commit callback %r failed", callback)


def commit(session: Session) -> None:
    """Commit, then run what waited for the commit (after_commit): for the commands, which have no request's
    unit of work to do it (a file a re-import replaced is removed only then)."""
    session.commit()
    run_after_commit(session)


def discard_attempt(session: Session) -> None:
    """Undo what the request attempted, before it answers with its form again and the errors (or ends in one):
    roll its transaction back — files moved into place go with it (app/files/staging.py listens to the
    rollback) — and drop the callbacks queued for after its commit, which must not run for work undone. The
    request goes on in a new transaction (re-reading what the page shows); what it commits then is its own."""
    session.rollback()
    session.info.pop("after_commit", None)


def release_locks(session: Session) -> None:
    """End the unit of work's transaction before slow work that needs no database — hashing a password,
    building an archive — so that SQLite's write lock (BEGIN IMMEDIATE) is not held meanwhile and other
    writers do not wait on it; the next statement begins a new transaction. What the unit of work wrote so far
    is committed, so call it before the first write, or where committing that much is what the rule wants (a
    sign-in attempt is recorded before its password is checked). The one commit outside get_session."""
    session.commit()


def insert_unique(session: Session, row: SQLModel) -> bool:
    """Insert a row that a unique constraint guards, in a savepoint. False, with nothing written, when a
    concurrent request inserted its twin after the caller's own check for one (two requests at once on
    PostgreSQL): the caller answers as for the duplicate its check would have found."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        if "unique" not in str(exc.orig).lower():
            raise
        return False
    return True


def open_session(*, write: bool = True) -> Session:
    session = Session(get_engine(), expire_on_commit=False)
    session.connection(execution_options={WRITE_OPTION: write})
    return session


def reads_that_write(request: Request) -> None:
    """A route dependency for the reads that record something (the audit of an export, an API token's last use):
    their transaction must be able to write. The faces say which routes those are (`dependencies=[...]` on the
    route or its router, which FastAPI resolves before the endpoint's own parameters, hence before this
    session dependency)."""
    request.state.db_write = True


def may_write(request: Request) -> bool:
    """Whether the request's transaction may write, hence starts with BEGIN IMMEDIATE on SQLite: anything but a
    GET, HEAD or OPTIONS, and the reads whose route depends on reads_that_write."""
    return request.method not in SAFE_METHODS or getattr(request.state, "db_write", False)


_slots: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]" = weakref.WeakKeyDictionary()


def _slot_count() -> int:
    """How many requests may hold a database connection at once in this process: what the pool gives
    (pool_size + max_overflow), and never more than half the worker threads, so that the requests holding a
    connection always find threads for their next steps (dependencies, endpoint, commit)."""
    threads = anyio.to_thread.current_default_thread_limiter().total_tokens
    return max(1, min(2 * get_settings().db_pool_size, int(threads) // 2))


class DbSlot:
    """One request's right to hold a database connection (see db_slot)."""

    def __init__(self, semaphore: asyncio.Semaphore) -> None:
        self.semaphore = semaphore
        self.held = False

    async def acquire(self) -> None:
        await self.semaphore.acquire()
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.semaphore.release()


@asynccontextmanager
async def db_slot() -> AsyncIterator[DbSlot]:
    """Wait in the event loop, not in a worker thread, for the right to hold a connection. Waiting in the
    threads could leave every thread waiting for a connection held by requests that themselves wait for a
    thread: 200 submissions at once stalled until the pool's timeout (benchmarks/submission_load.py)."""
    loop = asyncio.get_running_loop()
    semaphore = _slots.get(loop)
    if semaphore is None:
        semaphore = _slots[loop] = asyncio.Semaphore(_slot_count())
    slot = DbSlot(semaphore)
    await slot.acquire()
    try:
        yield slot
    finally:
        slot.release()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work: the only place that commits (on success) or rolls back (on error). The
    blocking calls run in worker threads; the request first waits for a connection slot (db_slot)."""
    async with db_slot() as slot:
        request.state.db_slot = slot
        session = Session(get_engine(), expire_on_commit=False)
        await run_in_threadpool(session.connection, execution_options={WRITE_OPTION: may_write(request)})
        request.state.db_session = session
        try:
            yield session
            await run_in_threadpool(session.commit)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(discard_attempt, session)
            raise
        finally:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(session.close)
    await run_in_threadpool(run_after_commit, session)


def between_transactions(request: Request, session: Session) -> Callable[[], AbstractAsyncContextManager[None]]:
    """For a streamed upload: commit what the request did so far and give back its connection slot while the
    body streams in (a slow upload must hold neither SQLite's write lock nor a slot), then wait for a slot
    again before the request goes on with a new transaction."""

    @asynccontextmanager
    async def pause() -> AsyncIterator[None]:
        await run_in_threadpool(session.commit)
        slot: DbSlot | None = getattr(request.state, "db_slot", None)
        if slot is not None:
            slot.release()
        try:
            yield
        finally:
            if slot is not None:
                with anyio.CancelScope(shield=True):
                    await slot.acquire()

    return pause


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
