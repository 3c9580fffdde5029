"""Browser journey of the jury, on the demo's street-lighting call (an open written round, three proposals,
three jurors around a declared conflict): the round made blind, the outside expert's pages name no startup
and no member (page text), in French on a desktop and in Arabic (right to left) on a 390 px phone; the juror
conflicted with CasaLux gets the 404 on its scoring page; the expert scores their three proposals with the
keyboard only (number keys, Tab, Enter: submit and next; the first one's draft autosaved on the way), and
edits one on the phone in Arabic.

The assertions rely on structure (ids, addresses, attributes), not on wording, so that they hold whatever the
catalogues contain; only the startups' and members' names, which no catalogue translates, are read."""

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import sign_in
from tests.liveserver import REPO_ROOT

pytestmark = pytest.mark.e2e

EXPERT = "jury@medina.test"
CONFLICTED = "tram@medina.test"  # declared a conflict with CasaLux
# who the lighting call's startups are: their names, their members' names (app/demo.py)
NAMES = ("Wayz", "LumiNour", "CasaLux", "Amine", "Yasmine", "Hamza")

# Run in the live server's environment: the round made blind by the city, as its staff would on their page,
# and where the expert's CasaLux assignment is (the test may not read it off a blind page).
SETUP = """
import json
from sqlmodel import select
from app import db
from app.accounts import service as accounts
from app.accounts.models import Organisation
from app.jury import assignments
from app.jury import service as jury
from app.jury.models import JuryRound
from app.jury.records import get_managed_round, get_round
from app.jury.schemas import RoundUpdate

session = db.open_session()
city = accounts.build_actor(session, accounts.get_user_by_email(session, "city@medina.test"))
round_ = session.exec(select(JuryRound).where(JuryRound.status == "open", JuryRound.kind == "written")).one()
jury.update_round(session, city, get_managed_round(session, city, round_.id), RoundUpdate(blind=True))
expert = accounts.build_actor(session, accounts.get_user_by_email(session, "jury@medina.test"))
mine = assignments.list_assignments(session, expert, get_round(session, expert, round_.id))
casalux = session.exec(select(Organisation.id).where(Organisation.slug == "casalux")).one()
found = {"round": round_.id, "casalux": [a.id for a in mine if a.proposal.proposal.startup_id == casalux][0]}
db.commit(session)
session.close()
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def blind_round(live) -> dict[str, int]:
    result = subprocess.run(
        [sys.executable, "-c", SETUP], cwd=REPO_ROOT, env=live.env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@contextmanager
def _person(browser: Browser, base_url: str, *, locale: str = "fr-FR", width: int = 1280) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, locale=locale, viewport={"width": width, "height": 900})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _assignment_links(page: Page) -> list[str]:
    links = page.locator(".jury-queue a[href^='/jury/assignments/']").evaluate_all("els => els.map(e => e.pathname)")
    return list(dict.fromkeys(links))


def _names_shown(page: Page) -> list[str]:
    text = page.locator("body").inner_text() + page.title()
    return [name for name in NAMES if name.lower() in text.lower()]


def _fits_the_width(page: Page) -> bool:
    wide = page.evaluate(
        "Array.from(document.querySelectorAll('main *')).filter(e => { const r = e.getBoundingClientRect();"
        " return r.width > 0 && (r.left < -1 || r.right > window.innerWidth + 1) && !e.closest('.table-wrap'); })"
        ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert not wide, wide
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_blind_pages_a_conflicted_juror_and_keyboard_scoring(browser, live_server, blind_round, shot):
    round_page = f"/jury/rounds/{blind_round['round']}"
    with _person(browser, live_server) as page:
        sign_in(page, EXPERT)
        expect(page.locator(".site-nav a[href='/jury']")).to_have_count(1)
        page.goto("/jury")
        expect(page.locator(f".jury-rounds a[href='{round_page}']")).to_have_count(1)
        shot(page, "jury-01-my-rounds-fr")
        assert _names_shown(page) == []
        page.goto(round_page)
        links = _assignment_links(page)
        assert len(links) == 3
        assert f"/jury/assignments/{blind_round['casalux']}" in links
        assert _names_shown(page) == []
        shot(page, "jury-02-queue-blind-fr")
        for n, link in enumerate(links, start=1):
            page.goto(link)
            expect(page.locator("#review-form [data-criterion]")).to_have_count(5)
            assert _names_shown(page) == [], link
            shot(page, f"jury-03-scoring-blind-{n}-fr")

    with _person(browser, live_server, locale="ar", width=390) as page:
        sign_in(page, EXPERT)
        page.goto(round_page)
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        assert _names_shown(page) == []
        assert _fits_the_width(page)
        shot(page, "jury-04-queue-blind-ar-390")
        page.goto(links[0])
        assert _names_shown(page) == []
        assert _fits_the_width(page)
        shot(page, "jury-05-scoring-blind-ar-390")

    with _person(browser, live_server) as page:
        sign_in(page, CONFLICTED)
        answer = page.goto(f"/jury/assignments/{blind_round['casalux']}")
        assert answer is not None and answer.status == 404
        page.goto(round_page)
        assert f"/jury/assignments/{blind_round['casalux']}" not in _assignment_links(page)

    with _person(browser, live_server) as page:
        sign_in(page, EXPERT)
        page.goto("/jury")
        page.locator(".jury-rounds a.btn--primary").click()  # the next proposal to score
        for n in range(1, 4):
            expect(page.locator("#review-form")).to_be_visible()
            focused = page.evaluate("document.activeElement.name || ''")
            assert focused.startswith("scores."), "the first criterion has the focus"
            for i, key in enumerate("43524"):
                page.keyboard.press(key)
                if i < 4:
                    page.keyboard.press("Tab")
            expect(page.locator("#review-form input[data-score]:checked")).to_have_count(5)
            if n == 1:  # the draft saves itself a few seconds later; the submission starts from its revision
                expect(page.locator("#review-autosave.autosave--saved")).to_have_count(1)
            if n == 2:
                shot(page, "jury-06-scored-by-keyboard-fr")
            with page.expect_navigation():
                page.keyboard.press("Enter")
        assert re.sub(r"^https?://[^/]+", "", page.url).split("#")[0] == round_page
        expect(page.locator(".jury-queue .badge--ok")).to_have_count(3)
        shot(page, "jury-07-queue-done-fr")

    with _person(browser, live_server, locale="ar", width=390) as page:
        sign_in(page, EXPERT)
        page.goto(links[0])
        option = page.locator("#review-form [data-criterion]").first.locator(".jury-scale__option").nth(5)
        option.click()
        page.fill("#f-comment", "خطة تجريبية واضحة.")
        with page.expect_navigation():
            page.locator("#review-form button[value='submit']").click()
        expect(page.locator(".flash--success")).to_have_count(1)
        expect(page.locator("#review-form [data-criterion]").first.locator("input:checked")).to_have_value("5")
        assert _fits_the_width(page)
        shot(page, "jury-08-edited-ar-390")
