"""Test set-up: the schema is built once with `alembic upgrade head`; every test runs inside a transaction
that is rolled back, so tests never see each other's rows. SQLite by default, PostgreSQL when
MEDINA_TEST_DATABASE_URL is set."""

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="medina-tests-"))
os.environ["MEDINA_ENV"] = "test"
os.environ["MEDINA_DATA_DIR"] = str(_TMP / "data")
os.environ["MEDINA_BASE_URL"] = "http://testserver"
os.environ.pop("MEDINA_SMTP_URL", None)
os.environ["MEDINA_JOBS_EAGER"] = "1"  # a queued job runs once the request commits (tests/test_jobs.py: the queue)

import pytest  # noqa: E402
from alembic import command  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from tests.dbutil import fresh_database_url, postgres_url  # noqa: E402

_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if postgres_url() and _WORKER:  # parallel workers each get their own PostgreSQL database
    TEST_DATABASE_URL = fresh_database_url(_WORKER, _TMP)
else:
    TEST_DATABASE_URL = postgres_url() or f"sqlite:///{_TMP / 'test.sqlite3'}"
os.environ["MEDINA_DATABASE_URL"] = TEST_DATABASE_URL

from app.cli import alembic_config  # noqa: E402
from app.db import discard_attempt, get_engine, get_session, run_after_commit  # noqa: E402
from app.main import create_app  # noqa: E402
from tests import factories  # noqa: E402


@pytest.fixture(scope="session")
def tmp_root() -> Path:
    return _TMP


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    command.upgrade(alembic_config(TEST_DATABASE_URL), "head")
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session whose commits are savepoints inside a transaction rolled back after the test."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


def unit_of_work(request: Request, db: Session) -> Iterator[Session]:
    """What the app's session dependency does (app.db.get_session), on a test's session: its commits release
    savepoints. The test's own set-up so far survives a request that fails and rolls back."""
    request.state.db_session = db
    db.commit()
    try:
        yield db
        db.commit()
    except BaseException:
        discard_attempt(db)
        raise
    run_after_commit(db)


class UnitOfWork:
    """The app's session dependency in the tests: the unit of work of whoever holds the app now — a test's `db`
    (the `app` fixture) or a matrix case (tests/test_permission_matrix.py). The app is built once per test
    session (create_app takes ~0.1 s and a thousand tests use it); each test only points this at its session."""

    def __init__(self) -> None:
        self.current: Callable[[Request], Iterator[Session]] | None = None

    def __call__(self, request: Request) -> Iterator[Session]:
        assert self.current is not None, "a request to the shared app outside a test that holds it"
        yield from self.current(request)

    @contextmanager
    def held_by(self, current: Callable[[Request], Iterator[Session]]) -> Iterator[None]:
        self.current = current
        try:
            yield
        finally:
            self.current = None


@pytest.fixture(scope="session")
def shared_app() -> tuple[FastAPI, UnitOfWork]:
    application = create_app()
    unit = UnitOfWork()
    application.dependency_overrides[get_session] = unit
    return application, unit


@pytest.fixture
def app(shared_app: tuple[FastAPI, UnitOfWork], db: Session) -> Iterator[FastAPI]:
    application, unit = shared_app
    with unit.held_by(lambda request: unit_of_work(request, db)):
        yield application


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client: TestClient, path: str, data: dict, *, page: str = "/login", **kwargs):
    """POST a form like a browser: with the CSRF token from a page and this site's Origin."""
    token = csrf_token(client, page)
    headers = {"Origin": "http://testserver", **kwargs.pop("headers", {})}
    return client.post(path, data={"csrf_token": token, **data}, headers=headers, **kwargs)


def mailed_link(caplog: pytest.LogCaptureFixture, to: str, fragment: str) -> str:
    """The path of the last link containing `fragment` emailed to `to`. The outbox withholds such links; outside
    production, with no SMTP server, the full message goes to the log, which the tests read."""
    for record in reversed(caplog.records):
        if record.name == "app.notifications.service" and record.args and to in record.args:
            for line in record.getMessage().splitlines():
                if fragment in line:
                    return line.strip().replace("http://testserver", "")
    raise AssertionError(f"no email to {to} with a link to {fragment}")


def sign_in(client: TestClient, email: str, password: str = factories.PASSWORD):
    response = post_form(client, "/login", {"email": email, "password": password})
    assert response.status_code == 303, response.text
    return response


@pytest.fixture
def make(db: Session) -> factories.Factory:
    return factories.Factory(db)


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Record ids repeat across rolled-back tests: start every test with empty API rate-limit windows."""
    from app.api import deps

    deps.limiter().reset()
    yield


# The order the two xdist workers take the tests in (`make test`: `-n 2 --dist loadgroup`). The browser walks
# share one live server and one Chromium, so they run on one worker as one group (marked e2e here, by their
# directory); so does tests/test_under_load.py, around its own server. The groups and the modules whose tests
# take seconds each go first, so that the other worker meanwhile takes the quick tests one by one and the run
# ends on quick tests on both workers, never on a long walk left to one of them.
GROUPS = {"tests/e2e/": "browser", "tests/test_under_load.py": "load"}
SLOW_MODULES = (
    "tests/test_import.py",
    "tests/test_import_deadlines.py",
    "tests/test_jobs.py",
    "tests/test_datasets.py",
)


def _group(nodeid: str) -> str | None:
    path = nodeid.split("::")[0]
    return next((group for prefix, group in GROUPS.items() if path.startswith(prefix)), None)


def _weight(item: pytest.Item) -> int:
    group = _group(item.nodeid)
    if group is not None:
        return 0 if group == "browser" else 1
    if item.nodeid.split("::")[0] in SLOW_MODULES or item.get_closest_marker("slow"):
        return 2
    return 3


def pytest_itemcollected(item: pytest.Item) -> None:
    """The browser walks are e2e by their directory, before any selection (`-m "not e2e"`)."""
    if _group(item.nodeid) == "browser":
        item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    modules: dict[str, int] = {}
    for item in items:
        path = item.nodeid.split("::")[0]
        modules[path] = min(modules.get(path, 3), _weight(item))
    # whole modules move (stable sort), so a module's fixtures are still set up once per worker
    items.sort(key=lambda item: modules[item.nodeid.split("::")[0]])


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`--dist loadgroup` with the groups above, read from the tests' paths: xdist's own reads an xdist_group mark
    from the test's id, which it can no longer rewrite under pytest 9 (`item._nodeid`), so its groups are ignored.
    Any other test is a unit of its own, sent to whichever worker is free."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class PathGroups(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid) or nodeid

    return PathGroups(config, log)
