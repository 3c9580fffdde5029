"""Browser journey of the selection, on the demo's street-lighting call with its written round scored by its
three jurors and closed (set up through the jury's services on a server of its own, so that the shared demo
server's round stays open for the jury's journey): the city's staff read the ranking and propose a decision
for each proposal, in French on a desktop — and may not confirm them; Technopark's operator confirms them, in
Arabic (right to left) on a 390 px phone; the city publishes; Wayz reads it was selected, with the jurors'
comments for it and its project, never a juror's name, a private note or the staff's rationale; CasaLux reads
its outcome in Arabic on a phone; a visitor finds Wayz, only Wayz, among the selected startups on the
challenge's page.

The assertions rely on structure (ids, addresses, attributes), not on wording, except the texts the test itself
wrote (the jurors' comments and notes, the rationales) and the demo's names, which no catalogue translates."""

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import sign_in
from tests.liveserver import REPO_ROOT, LiveServer, running_server

pytestmark = pytest.mark.e2e

JURORS = ("Hind Benali", "Nadia Lydec", "Karim")

# Run in the server's environment: every juror's remaining reviews submitted, then the round closed by the city.
SETUP = """
import json
from sqlmodel import select
from app import db
from app.accounts import service as accounts
from app.accounts.models import Organisation
from app.jury import assignments, reviews
from app.jury import service as jury
from app.jury.models import JuryRound
from app.jury.records import get_assignment, get_managed_round, get_round
from app.jury.schemas import ReviewIn

# each startup's scores on DataCity's five criteria, by juror: Wayz first, LumiNour second, CasaLux third
SCORES = {"wayz": (5, 4, 4, 5, 4), "luminour": (4, 3, 4, 3, 4), "casalux": (2, 3, 2, 2, 3)}
COMMENTS = {"wayz": "Un pilote crédible ; chiffrez la maintenance.", "luminour": "Bonne idée, équipe à renforcer.",
            "casalux": "Le modèle économique reste flou."}
session = db.open_session()
city = accounts.build_actor(session, accounts.get_user_by_email(session, "city@medina.test"))
round_ = session.exec(select(JuryRound).where(JuryRound.status == "open", JuryRound.kind == "written")).one()
slugs = {o.id: o.slug for o in session.exec(select(Organisation))}
for email in ("jury@medina.test", "lydec@medina.test", "tram@medina.test"):
    actor = accounts.build_actor(session, accounts.get_user_by_email(session, email))
    for task in assignments.list_assignments(session, actor, get_round(session, actor, round_.id)):
        if task.status in ("submitted", "abstained"):
            continue
        task = get_assignment(session, actor, task.id)
        slug = slugs[task.proposal.proposal.startup_id]
        scores = {str(c.id): s for c, s in zip(task.round.criteria, SCORES[slug], strict=False)}
        reviews.save_review(session, actor, task, ReviewIn(scores=scores, comment=COMMENTS[slug],
                                                          note="Note privée du jury.", submit=True))
jury.close_round(session, city, get_managed_round(session, city, round_.id))
db.commit(session)
from app.proposals.models import Proposal
found = session.exec(select(Proposal).where(Proposal.challenge_id == round_.challenge_id)).all()
print(json.dumps({"round": round_.id, "proposals": {slugs[p.startup_id]: p.id for p in found}}))
"""


@pytest.fixture(scope="module")
def closed_round() -> Iterator[tuple[LiveServer, dict]]:
    with running_server("selection") as server:
        result = subprocess.run(
            [sys.executable, "-c", SETUP], cwd=REPO_ROOT, env=server.env, capture_output=True, text=True, timeout=90
        )
        assert result.returncode == 0, result.stderr
        yield server, json.loads(result.stdout.strip().splitlines()[-1])


@contextmanager
def _person(browser: Browser, base_url: str, *, locale: str = "fr-FR", width: int = 1280) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, locale=locale, viewport={"width": width, "height": 900})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # the question a destructive form asks
        yield page
    finally:
        context.close()


def _propose(page: Page, proposal_id: int, decision: str, rationale: str) -> None:
    item = page.locator(f"#proposal-{proposal_id}")
    item.locator("details summary").click()
    item.locator(f"input[name=decision][value={decision}]").check()
    item.locator("textarea[name=rationale]").fill(rationale)
    with page.expect_navigation():
        item.locator("form[action$='/decisions'] button[type=submit]").click()


def _fits(page: Page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


def test_staff_rank_propose_confirm_publish_and_startups_read_their_outcomes(browser, closed_round, shot) -> None:
    server, found = closed_round
    round_id, ids = found["round"], found["proposals"]
    wayz, luminour, casalux = ids["wayz"], ids["luminour"], ids["casalux"]

    with _person(browser, server.base_url) as city:
        sign_in(city, "city@medina.test")
        city.goto(f"/rounds/{round_id}/ranking")
        rows = city.locator(".ranking-table tbody tr[id^='entry-']")
        expect(rows).to_have_count(3)
        expect(rows.first.locator(f"a[href='/proposals/{wayz}']")).to_have_count(1)  # Wayz leads
        expect(rows.first.locator("svg")).to_have_count(1)  # its strip plot
        shot(city, "selection-01-ranking-fr")

        city.goto(f"/rounds/{round_id}/decisions")
        _propose(city, wayz, "selected", "Le meilleur dossier, et de loin.")
        _propose(city, luminour, "waitlisted", "Solide, mais un seul pilote possible.")
        _propose(city, casalux, "rejected", "Modèle économique à revoir.")
        for pid in (wayz, luminour, casalux):  # the proposer may not confirm
            expect(city.locator(f"#proposal-{pid} form[action$='/confirm']")).to_have_count(0)
            expect(city.locator(f"#proposal-{pid} button[disabled]")).to_have_count(1)
        shot(city, "selection-02-proposed-fr")

    with _person(browser, server.base_url, locale="ar", width=390) as operator:
        sign_in(operator, "operator@medina.test")
        operator.goto(f"/rounds/{round_id}/decisions")
        expect(operator.locator("html")).to_have_attribute("dir", "rtl")
        for pid in (wayz, luminour, casalux):
            with operator.expect_navigation():
                operator.locator(f"#proposal-{pid} form[action$='/confirm'] button").click()
        for pid in (wayz, luminour, casalux):
            expect(operator.locator(f"#proposal-{pid} form[action$='/confirm']")).to_have_count(0)
        assert _fits(operator, 390)
        shot(operator, "selection-03-confirmed-ar-phone")

    with _person(browser, server.base_url) as city:
        sign_in(city, "city@medina.test")
        city.goto(f"/rounds/{round_id}/decisions")
        with city.expect_navigation():
            city.locator(f"form[action='/rounds/{round_id}/publish'] button[type=submit]").click()
        expect(city.locator(f"form[action='/rounds/{round_id}/publish']")).to_have_count(0)
        shot(city, "selection-04-published-fr")

    with _person(browser, server.base_url) as amine:
        sign_in(amine, "startup@medina.test")
        amine.goto(f"/proposals/{wayz}")
        expect(amine.locator(f"#outcome-{round_id}")).to_contain_text("Un pilote crédible ; chiffrez la maintenance.")
        expect(amine.locator("#project")).to_be_visible()
        text = amine.locator("main").inner_text()
        assert "Note privée" not in text and "Le meilleur dossier" not in text
        assert not any(name in text for name in JURORS)
        shot(amine, "selection-05-outcome-selected-fr")

    with _person(browser, server.base_url, locale="ar", width=390) as hamza:
        sign_in(hamza, "startup5@medina.test")
        hamza.goto(f"/proposals/{casalux}")
        expect(hamza.locator("html")).to_have_attribute("dir", "rtl")
        expect(hamza.locator(f"#outcome-{round_id}")).to_contain_text("Le modèle économique reste flou.")
        expect(hamza.locator("#project")).to_have_count(0)
        text = hamza.locator("main").inner_text()
        assert "Note privée" not in text and not any(name in text for name in JURORS)
        assert _fits(hamza, 390)
        shot(hamza, "selection-06-outcome-ar-phone")

    with _person(browser, server.base_url) as visitor:
        visitor.goto("/challenges")
        visitor.locator("a[href*='eclairage-hay-hassani']").first.click()
        expect(visitor.locator("#selected")).to_contain_text("Wayz")
        expect(visitor.locator("#selected")).not_to_contain_text("LumiNour")
        shot(visitor, "selection-07-public-selected")
