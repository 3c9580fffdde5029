"""Upload benchmark: stream a big CSV through POST /api/v1/datasets/{id}/files on a real uvicorn server.

Prints the throughput (MB/s), its ratio to copying the same file on the same disk in the same run
(shutil.copyfile, and copy + fsync since the server fsyncs before the atomic move), and the server's peak
resident memory (VmHWM, or psutil when installed), to show that uploads are streamed in constant memory.

    .venv/bin/python benchmarks/upload_bench.py --size-mib 1024

Everything lives in a temporary folder on the disk of --workdir (default: a folder under ./var), which is
removed afterwards; the server runs on a fresh SQLite database there.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BLOCK_LINES = 20_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_csv(path: Path, size: int) -> None:
    """A CSV-like file of exactly `size` bytes (header, then sensor readings)."""
    header = b"sensor_id,timestamp,station,line,boardings,alightings,occupancy\n"
    rows = b"".join(
        f"{i % 977},2024-03-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z,S{i % 71},T{1 + i % 4},"
        f"{i * 7 % 300},{i * 3 % 280},{(i * 13 % 100) / 100:.2f}\n".encode()
        for i in range(BLOCK_LINES)
    )
    with path.open("wb") as out:
        out.write(header)
        written = len(header)
        while written < size:
            piece = rows[: size - written]
            out.write(piece)
            written += len(piece)


def rss_kib(pid: int, field: str) -> int:
    try:
        import psutil  # type: ignore[import-untyped]

        process = psutil.Process(pid)
        if field == "VmRSS":
            return int(process.memory_info().rss // 1024)
    except ImportError:
        pass
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def setup(env: dict[str, str]) -> tuple[int, str]:
    """Migrate, then create a partner, its sponsor, a programme, a published challenge, a dataset and a
    write token, in a child interpreter that uses the benchmark's database."""
    subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", "db", "upgrade"], cwd=REPO, env=env, check=True
    )
    code = r"""
from datetime import timedelta
from app.accounts import service as accounts, tokens
from app.accounts.schemas import TokenCreate
from app.challenges.models import Challenge, ChallengeTerms
from app.datasets.models import Dataset
from app.db import open_session, utcnow
from app.programmes.models import Programme, ProgrammePartner
from app.accounts.models import User
with open_session() as s:
    org, _ = accounts.ensure_organisation(s, slug="casa-tram", name="Casa Tram", kind="partner")
    op, _ = accounts.ensure_organisation(s, slug="operator", name="Operator", kind="operator")
    user = User(email="bench@example.org", name="Bench", password_hash="x")
    s.add(user); s.flush()
    accounts.add_membership(s, user, org, "admin")
    p = Programme(slug="bench", name="Bench", operator_id=op.id); s.add(p); s.flush()
    s.add(ProgrammePartner(programme_id=p.id, organisation_id=org.id))
    c = Challenge(programme_id=p.id, lead_sponsor_id=org.id, slug="c", title="Bench", summary="s", problem="p",
                  themes=["mobility"], deadline=utcnow() + timedelta(days=9), status="published", published_at=utcnow())
    s.add(c); s.flush()
    s.add(ChallengeTerms(challenge_id=c.id, version=1, ip_terms="x"))
    d = Dataset(challenge_id=c.id, owner_id=org.id, title="Bench data", licence="CC-BY-4.0"); s.add(d); s.flush()
    actor = accounts.build_actor(s, user)
    _, secret = tokens.create_token(s, actor, TokenCreate(name="bench", scope="write"))
    s.commit()
    print(d.id, secret)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True, capture_output=True, text=True)
    dataset_id, secret = out.stdout.strip().splitlines()[-1].split()
    return int(dataset_id), secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--workdir", type=Path, default=REPO / "var")
    args = parser.parse_args()
    import httpx

    args.workdir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="upload-bench-", dir=args.workdir))
    server = None
    try:
        env = {
            **os.environ,
            "MEDINA_ENV": "development",
            "MEDINA_DATA_DIR": str(root / "data"),
            "MEDINA_DATABASE_URL": f"sqlite:///{root / 'bench.sqlite3'}",
            "MEDINA_MAX_UPLOAD_BYTES": str(max(2 * 1024**3, (args.size_mib + 1) * 1024**2)),
            "MEDINA_API_RATE_LIMIT_PER_MINUTE": "100000",
        }
        size = args.size_mib * 1024 * 1024
        source = root / "big.csv"
        print(f"generating a {args.size_mib} MiB CSV…", flush=True)
        make_csv(source, size)
        dataset_id, secret = setup(env)
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:create_app",
                "--factory",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=REPO,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        idle_rss = rss_kib(server.pid, "VmRSS")
        samples: list[int] = []
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                samples.append(rss_kib(server.pid, "VmRSS"))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        with source.open("rb") as handle:
            answer = httpx.post(
                f"{base}/api/v1/datasets/{dataset_id}/files",
                files={"file": ("big.csv", handle, "text/csv")},
                headers={"Authorization": f"Bearer {secret}"},
                timeout=httpx.Timeout(3600.0),
            )
        upload_seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        if answer.status_code != 201:
            raise SystemExit(f"upload failed: {answer.status_code} {answer.text[:500]}")
        peak_rss = max(rss_kib(server.pid, "VmHWM"), *samples)

        started = time.perf_counter()
        shutil.copyfile(source, root / "copy.csv")
        copy_seconds = time.perf_counter() - started
        started = time.perf_counter()
        shutil.copyfile(source, root / "copy2.csv")
        with (root / "copy2.csv").open("rb+") as handle:
            os.fsync(handle.fileno())
        copy_fsync_seconds = time.perf_counter() - started

        mb = size / 1e6
        body = answer.json()
        print(f"file: {args.size_mib} MiB, stored as version {body['version']}, sha256 {body['sha256'][:16]}…")
        print(f"rows counted: {body.get('row_count')} (exact: {(body.get('report') or {}).get('row_count_exact')})")
        print(f"upload through the server: {upload_seconds:.2f} s = {mb / upload_seconds:.0f} MB/s")
        print(f"shutil.copyfile on the same disk: {copy_seconds:.2f} s = {mb / copy_seconds:.0f} MB/s")
        print(f"copy + fsync on the same disk: {copy_fsync_seconds:.2f} s = {mb / copy_fsync_seconds:.0f} MB/s")
        print(
            f"ratio upload / copy: {copy_seconds / upload_seconds:.2f} "
            f"(vs copy + fsync: {copy_fsync_seconds / upload_seconds:.2f})"
        )
        print(f"server RSS: idle {idle_rss / 1024:.0f} MiB, peak {peak_rss / 1024:.0f} MiB (VmHWM)")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
