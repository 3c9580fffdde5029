"""Times a round's ranking (HTML page, CSV, API) with 1,000 and 10,000 proposals × 5 reviews × 5 criteria.

Usage: .venv/bin/python benchmarks/ranking_bench.py [--sizes 1000 10000] [--runs 15]

Builds a scratch SQLite database per size (rows written in bulk: the services are exercised by the tests), a
closed round of that many entries with 5 criteria on 0–5, one juror per 250 reviews, each entry reviewed by 5
jurors (scores = the entry's quality + the juror's severity + noise), then requests each face `--runs` times
in-process (TestClient, no network) as a member of the challenge's staff and prints the median and 95th
percentile, and the ratio of each median to that of a bare endpoint returning the same bytes in the same run
(what the framework and the transfer cost, without the ranking). "API, all pages" follows `next` from the
first page to the last (limit=500). The scores' computation is kept between requests while the reviews do not
change (app/selection/ranking.py): "computed anew" drops it before each request, as a change to a review does.
"""

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

# one BLAS thread, as a web worker should run (set before numpy loads): on a shared machine a BLAS pool per
# process oversubscribes the cores, and the calibration's vector products wait for threads instead of computing
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REVIEWS = 5
CRITERIA = 5
PER_JUROR = 250
FIRST_ID = 100_000  # rows written with explicit ids, far above anything the migrations seed


def seed(proposals: int, rng: random.Random) -> tuple[int, str]:
    """The challenge, its staff, the round and its reviews: the round's id and the staff's password."""
    from sqlalchemy import insert
    from sqlmodel import Session, SQLModel

    from app.accounts import service as accounts
    from app.accounts.models import Organisation
    from app.challenges.models import Challenge, ChallengeTerms
    from app.db import get_engine, utcnow
    from app.jury.models import Juror, JuryAssignment, JuryCriterion, JuryEntry, JuryReview, JuryRound
    from app.programmes.models import Programme
    from app.proposals.models import Proposal

    def bulk(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
        """Rows with their model's defaults, inserted in one executemany."""
        session.execute(insert(model), [model(**row).model_dump() | {"id": row["id"]} for row in rows])

    now = utcnow()
    password = "bench-password-123"  # noqa: S105  (a scratch database's only account)
    with Session(get_engine()) as session:
        operator, _ = accounts.ensure_organisation(session, slug="bench-operator", name="Operator", kind="operator")
        sponsor, _ = accounts.ensure_organisation(session, slug="bench-sponsor", name="Sponsor", kind="partner")
        programme = Programme(slug="bench", name="Bench programme", operator_id=operator.id)
        session.add(programme)
        session.flush()
        staff = accounts.create_user(session, email="staff@bench-sponsor.example", name="Staff", password=password)
        staff.email_verified_at = now
        accounts.add_membership(session, staff, sponsor, "admin")
        challenge = Challenge(
            programme_id=programme.id, lead_sponsor_id=sponsor.id, slug="bench-challenge", title="Bench challenge",
            summary="A summary.", problem="A problem.", themes=["water"], status="published",
            deadline=now - timedelta(days=30), published_at=now - timedelta(days=60),
        )  # fmt: skip
        session.add(challenge)
        session.flush()
        session.add(ChallengeTerms(challenge_id=challenge.id, version=1, ip_terms="IP stays with the startup."))
        round_ = JuryRound(
            challenge_id=challenge.id or 0, position=1, name="Written pre-selection", status="closed",
            opens_at=now - timedelta(days=20), closes_at=now - timedelta(days=1), reviews_per_proposal=REVIEWS,
            closed_at=now - timedelta(days=1),
        )  # fmt: skip
        session.add(round_)
        session.flush()
        criteria = [
            JuryCriterion(round_id=round_.id or 0, position=n, name=f"Criterion {n + 1}", min_score=0, max_score=5)
            for n in range(CRITERIA)
        ]
        session.add_all(criteria)
        session.flush()
        criterion_ids = [str(c.id) for c in criteria]

        ids = range(FIRST_ID, FIRST_ID + proposals)
        startups = [{"id": i, "kind": "startup", "name": f"Startup {i}", "slug": f"s-{i}"} for i in ids]
        bulk(session, Organisation, startups)
        bulk(
            session,
            Proposal,
            [{"id": i, "challenge_id": challenge.id, "startup_id": i, "status": "eligible",
              "title": f"Proposal {i}: sensors for the network's leaks"} for i in ids],
        )  # fmt: skip
        bulk(session, JuryEntry, [{"id": i, "round_id": round_.id, "proposal_id": i} for i in ids])
        # a multiple of REVIEWS: an entry's reviews fall in one shuffled block of the jurors, all different
        jurors = max(2, proposals // PER_JUROR) * REVIEWS
        juror_ids = range(FIRST_ID, FIRST_ID + jurors)
        bulk(
            session,
            Juror,
            [{"id": j, "round_id": round_.id, "email": f"juror{j}@jury.example", "name": f"Juror {j}",
              "accepted_at": now - timedelta(days=25)} for j in juror_ids],
        )  # fmt: skip
        severity = {j: rng.gauss(0, 0.5) for j in juror_ids}
        assignments, reviews = [], []
        block: list[int] = []
        for n, entry_id in enumerate(ids):
            quality = rng.uniform(1, 4)
            if not block:
                block = list(juror_ids)
                rng.shuffle(block)
            for k in range(REVIEWS):
                juror_id = block.pop()
                assignment_id = FIRST_ID + n * REVIEWS + k
                assignments.append({"id": assignment_id, "round_id": round_.id, "juror_id": juror_id,
                                    "entry_id": entry_id})  # fmt: skip
                scores = {
                    c: min(5, max(0, round(quality + severity[juror_id] + rng.gauss(0, 0.7)))) for c in criterion_ids
                }
                reviews.append({"id": assignment_id, "assignment_id": assignment_id, "status": "submitted",
                                "scores": scores, "comment": "Clear plan.", "submitted_at": now})  # fmt: skip
        bulk(session, JuryAssignment, assignments)
        bulk(session, JuryReview, reviews)
        round_id = round_.id or 0
        session.commit()
    # the bulk load left its pages in the write-ahead log, which every read would search: fold them into the
    # database (with the engine's connections closed), as SQLite's automatic checkpoints keep a running one
    engine = get_engine()
    engine.dispose()
    with sqlite3.connect(str(engine.url.database)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return round_id, password


def timed(call: Callable[[], Any], runs: int) -> tuple[float, float]:
    for _ in range(2):  # warm-up
        call()
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        timings.append(time.perf_counter() - start)
    timings.sort()
    return statistics.median(timings), timings[int(0.95 * (len(timings) - 1))]


def measure(proposals: int, runs: int) -> list[tuple[str, float, float, float]]:
    scratch = Path(tempfile.mkdtemp(prefix="medina-bench-"))
    os.environ["MEDINA_DATA_DIR"] = str(scratch)
    os.environ["MEDINA_DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ["MEDINA_API_RATE_LIMIT_PER_MINUTE"] = "1000000"
    os.environ["MEDINA_LOGIN_RATE_LIMIT_PER_MINUTE"] = "1000000"

    from alembic import command
    from fastapi.testclient import TestClient
    from sqlmodel import Session, select
    from starlette.responses import Response

    from app import config, db
    from app.accounts import service as accounts
    from app.accounts import tokens
    from app.accounts.models import User
    from app.accounts.schemas import TokenCreate
    from app.cli import alembic_config
    from app.main import create_app

    config.get_settings.cache_clear()
    db.get_engine.cache_clear()
    command.upgrade(alembic_config(), "head")
    round_id, password = seed(proposals, random.Random(proposals))
    with Session(db.get_engine()) as session:
        staff = session.exec(select(User).where(User.email == "staff@bench-sponsor.example")).one()
        _, secret = tokens.create_token(session, accounts.build_actor(session, staff), TokenCreate(name="bench"))
        session.commit()

    app = create_app()
    bare: dict[str, tuple[bytes, str]] = {}

    @app.get("/bench/bare/{name}", include_in_schema=False)
    def bare_endpoint(name: str) -> Response:
        body, media_type = bare[name]
        return Response(body, media_type=media_type)

    app.router.routes.insert(0, app.router.routes.pop())  # before the pages' catch-alls
    client = TestClient(app, base_url="http://testserver")
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed = client.post(
        "/login",
        data={"email": "staff@bench-sponsor.example", "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.status_code
    api = {"Authorization": f"Bearer {secret}"}

    def get(path: str, headers: dict[str, str] | None = None) -> Any:
        response = client.get(path, headers=headers or {})
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        return response

    def all_pages() -> list[bytes]:
        bodies, url = [], f"/api/v1/rounds/{round_id}/ranking?limit=500"
        while url:
            response = get(url, api)
            bodies.append(response.content)
            url = response.json()["next"]
        return bodies

    from app.selection.ranking import COMPUTATIONS

    def computed_anew(path: str) -> list[bytes]:
        COMPUTATIONS.clear()  # as after a change to the round's reviews: the scores are computed again
        return [get(path).content]

    faces: dict[str, Callable[[], list[bytes]]] = {
        "HTML page 1, computed anew": lambda: computed_anew(f"/rounds/{round_id}/ranking"),
        "HTML page 1 (250 rows)": lambda: [get(f"/rounds/{round_id}/ranking").content],
        "HTML page 1, juror-scale model": lambda: [get(f"/rounds/{round_id}/ranking?model=scale").content],
        "HTML Borda view": lambda: [get(f"/rounds/{round_id}/ranking?view=borda").content],
        "CSV, all rows": lambda: [get(f"/rounds/{round_id}/ranking.csv").content],
        "API, first page (limit=500)": lambda: [get(f"/api/v1/rounds/{round_id}/ranking?limit=500", api).content],
        "API, all pages (limit=500)": all_pages,
    }
    results = []
    for label, face in faces.items():
        bodies = face()
        media = "text/csv" if "CSV" in label else "application/json" if "API" in label else "text/html"
        names = []
        for n, body in enumerate(bodies):
            names.append(f"{len(bare)}-{n}")
            bare[names[-1]] = (body, media)
        median, p95 = timed(face, runs)
        bare_median, _ = timed(lambda names=names: [get(f"/bench/bare/{name}") for name in names], runs)
        results.append((label, median, p95, bare_median))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    for size in args.sizes:
        results = measure(size, args.runs)
        print(f"\n{size:,} proposals × {REVIEWS} reviews × {CRITERIA} criteria, SQLite, {args.runs} runs, in-process")
        print(f"{'request':<34} {'median ms':>10} {'p95 ms':>8} {'bare ms':>8} {'× bare':>7}")
        for label, median, p95, bare_median in results:
            print(f"{label:<34} {median * 1000:>10.1f} {p95 * 1000:>8.1f} {bare_median * 1000:>8.1f} "
                  f"{median / bare_median:>7.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
