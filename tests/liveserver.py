"""A real Medina server for the tests that need one (browser journeys, load and memory tests).

`running_server(name)` makes a temporary data dir and a database (a fresh `<name>` PostgreSQL database when
MEDINA_TEST_DATABASE_URL points at PostgreSQL, otherwise SQLite in the temp dir), runs `medina db upgrade`
and `medina demo`, starts uvicorn on a free port and yields a LiveServer; it stops the server afterwards and
prints the server's log when it crashed or logged a traceback.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT = 30.0


@dataclass
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    log_path: Path

    def peak_rss_kib(self) -> int:
        """The server process's resident-memory high-water mark (VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise AssertionError("no VmHWM in /proc")

    def medina(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            medina_command(*args), cwd=REPO_ROOT, env=self.env, input=stdin, capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            pytest.fail(f"medina {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result.stdout


def medina_command(*args: str) -> list[str]:
    """The `medina` command of this checkout (run from REPO_ROOT, `app` is imported from it, not from wherever
    the package was installed in editable mode)."""
    return [sys.executable, "-c", "from app.cli import main; main()", *args]


def prepare(server: LiveServer) -> None:
    """`medina db upgrade` then `medina demo`, in one process: a server start pays for one import of the app."""
    script = (
        "from app.cli import app; app(['db', 'upgrade'], standalone_mode=False); app(['demo'], standalone_mode=False)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=server.env, capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        pytest.fail(f"medina db upgrade and demo failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postgres_database(url: str, name: str) -> str:
    """Drop and create `<dbname>_<name>` on the server of `url`; return the SQLAlchemy URL of that database."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    given = make_url(url)
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # one database per xdist worker: they run side by side
    database = f"{given.database}_{name}" + (f"_{worker}" if worker else "")
    admin_dsn = given.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        quoted = sql.Identifier(database)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(quoted))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(quoted))
    return given.set(database=database).render_as_string(hide_password=False)


def _database_url(data_dir: Path, name: str) -> str:
    url = os.environ.get("MEDINA_TEST_DATABASE_URL", "")
    if url.startswith(("postgresql", "postgres")):
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        return _postgres_database(url, name)
    return f"sqlite:///{data_dir / 'medina.sqlite3'}"


@contextlib.contextmanager
def running_server(name: str, **settings: str) -> Iterator[LiveServer]:
    tmp = Path(tempfile.mkdtemp(prefix=f"medina-{name}-"))
    data_dir = tmp / "data"
    data_dir.mkdir()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "MEDINA_DATA_DIR": str(data_dir),
        "MEDINA_DATABASE_URL": _database_url(data_dir, name),
        "MEDINA_BASE_URL": base_url,
        # argon2 at its lowest cost, as in the rest of the suite (app/security/passwords.py); a server whose test
        # is about the real cost (tests/test_under_load.py) passes MEDINA_ENV="development"
        "MEDINA_ENV": "test",
        "PYTHONUNBUFFERED": "1",
        **settings,
    }
    env.pop("MEDINA_SMTP_URL", None)  # never send mail from the tests (the outbox keeps it)
    log_path = tmp / "server.log"
    server = LiveServer(base_url, None, env, log_path)  # type: ignore[arg-type]
    prepare(server)
    log = log_path.open("wb")
    command = [sys.executable, "-m", "uvicorn", "app.asgi:app", "--host", "127.0.0.1", "--port", str(port)]
    server.process = subprocess.Popen(
        [*command, "--log-level", "warning"],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process = server.process
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"/healthz did not answer 200 within {STARTUP_TIMEOUT:.0f} s:\n"
                    f"{log_path.read_text(errors='replace')}"
                )
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        if process.returncode not in (0, -15) or "Traceback" in text:  # show the server's errors
            sys.stderr.write(f"\n[{name}] server log:\n{text}\n")
        shutil.rmtree(tmp, ignore_errors=True)
