"""End-to-end fixtures: a real Medina server (migrated database, demo data) driven by Chromium.

- `live_server` (session): a temporary data dir, a database (a fresh `<name>_e2e` PostgreSQL database when
  MEDINA_TEST_DATABASE_URL points at PostgreSQL, otherwise SQLite in the temp dir), `medina db upgrade`,
  `medina demo`, then uvicorn on a free port. Yields the base URL.
- `browser` (session): Debian's Chromium (Playwright cannot download its own here). Missing Chromium skips
  the e2e tests, except in CI (CI=true) where it fails them.
- `page` (function): a fresh browser context (own cookies) and page.
- `shot(page, name)`: a full-page screenshot under test-output/screenshots/.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
CHROMIUM = os.environ.get("MEDINA_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT = 30.0
DEFAULT_TIMEOUT_MS = 10_000


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _medina_command(*args: str) -> list[str]:
    """The `medina` console script installed next to this interpreter, or the same entry point via -c."""
    script = Path(sys.executable).with_name("medina")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from app.cli import main; main()", *args]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postgres_e2e_database(url: str) -> str:
    """Drop and create `<dbname>_e2e` on the server of `url`; return the SQLAlchemy URL of that database."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    given = make_url(url)
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # one database per xdist worker: they run side by side
    name = f"{given.database}_e2e" + (f"_{worker}" if worker else "")
    admin_dsn = given.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        quoted = sql.Identifier(name)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(quoted))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(quoted))
    return given.set(database=name).render_as_string(hide_password=False)


def _database_url(data_dir: Path) -> str:
    url = os.environ.get("MEDINA_TEST_DATABASE_URL", "")
    if url.startswith(("postgresql", "postgres")):
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        return _postgres_e2e_database(url)
    return f"sqlite:///{data_dir / 'medina.sqlite3'}"


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    tmp = Path(tempfile.mkdtemp(prefix="medina-e2e-"))
    data_dir = tmp / "data"
    data_dir.mkdir()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "MEDINA_DATA_DIR": str(data_dir),
        "MEDINA_DATABASE_URL": _database_url(data_dir),
        "MEDINA_BASE_URL": base_url,
        "MEDINA_ENV": "development",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("MEDINA_SMTP_URL", None)  # never send mail from the tests (the outbox keeps it)
    _run(_medina_command("db", "upgrade"), env)
    _run(_medina_command("demo"), env)

    log_path = tmp / "server.log"
    log = log_path.open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(f"the server exited with {server.returncode}:\n{log_path.read_text(errors='replace')}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"/healthz did not answer 200 within {STARTUP_TIMEOUT:.0f} s:\n"
                    f"{log_path.read_text(errors='replace')}"
                )
            time.sleep(0.2)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
        log.close()
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        if server.returncode not in (0, -15) or "Traceback" in text:  # show the server's errors
            sys.stderr.write(f"\n[e2e] server log:\n{text}\n")
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (install Debian's chromium, or set MEDINA_E2E_CHROMIUM)"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session", autouse=True)
def _screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if "PYTEST_XDIST_WORKER" not in os.environ:  # under xdist a worker would delete the others' screenshots
        for old in SCREENSHOTS.glob("*.png"):
            old.unlink()
    return SCREENSHOTS


@pytest.fixture
def page(browser, live_server: str) -> Iterator[object]:  # type: ignore[no-untyped-def]
    # A French-speaking browser, like most of the platform's users; the journeys assert on structure
    # (ids, addresses, attributes), not on wording, so they hold whatever the catalogues contain.
    context = browser.new_context(base_url=live_server, locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    new_page = context.new_page()
    try:
        yield new_page
    finally:
        context.close()


@pytest.fixture
def shot() -> Callable[[object, str], Path]:
    def take(target_page, name: str) -> Path:  # type: ignore[no-untyped-def]
        path = SCREENSHOTS / f"{name}.png"
        target_page.screenshot(path=str(path), full_page=True)
        return path

    return take
