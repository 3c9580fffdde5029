"""The demo's AquaSense team co-writes its draft in two browsers: Leila in French at desktop width, Omar in
Arabic on a phone. Different fields merge; a half-typed plan line keeps the other fields saving and says so
on the field; a field both change is shown side by side and kept only as Omar chooses."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import sign_in

SAVE = "#proposal-form .form__actions button[type=submit]:not([name])"


@contextmanager
def _person(browser: Browser, base_url: str, *, locale: str, width: int, height: int) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, locale=locale, viewport={"width": width, "height": height})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _open_draft(page: Page, email: str) -> str:
    sign_in(page, email)
    page.goto("/my/applications")
    links = page.locator("main a[href^='/proposals/']:not([href*='/versions/'])")
    for address in {re.sub(r"/edit$", "", links.nth(i).get_attribute("href") or "") for i in range(links.count())}:
        page.goto(address + "/edit")  # the demo's draft; the proposal whose call is over answers read-only
        if page.locator("#proposal-form").count():
            return address
    raise AssertionError("AquaSense has no draft that can still be edited")


def _autosaved(page: Page, selector: str, text: str, state: str) -> None:
    with page.expect_response(lambda r: r.url.endswith("/autosave") and r.request.method == "POST"):
        page.fill(selector, text)
    expect(page.locator("#autosave-status")).to_have_class(re.compile(rf"\bautosave--{state}\b"))


def _no_wider_than_the_window(page: Page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def test_two_teammates_write_the_same_draft_and_lose_nothing(browser, live_server, shot):
    with (
        _person(browser, live_server, locale="fr-FR", width=1280, height=900) as leila,
        _person(browser, live_server, locale="ar", width=390, height=844) as omar,
    ):
        proposal = _open_draft(leila, "startup2@medina.test")
        assert _open_draft(omar, "startup3@medina.test") == proposal
        expect(omar.locator("html")).to_have_attribute("dir", "rtl")

        # 1. Different fields: Leila's team and Omar's needs both stay, whoever saves last
        team = "Leila Amrani | CEO, hydraulicienne\nOmar Idrissi | CTO"
        _autosaved(leila, "#f-team", team, "saved")
        _autosaved(omar, "#f-needs", "الوصول إلى غرف الصمامات وبيانات الضغط.", "saved")
        expect(omar.locator("#autosave-status a[href$='/edit']")).to_be_visible()  # Leila's change, kept
        shot(omar, "cowrite-01-omar-ar-phone-merged-autosave")

        # 2. A half-typed plan line: the other fields keep saving, the message is on the plan field
        plan = omar.locator("#f-plan").input_value()
        with omar.expect_response(lambda r: r.url.endswith("/autosave")):
            omar.fill("#f-plan", plan + "\n12")
            omar.fill("#f-title", "Entendre les fuites — version 2")
        expect(omar.locator("#autosave-status")).to_have_class(re.compile(r"\bautosave--invalid\b"))
        expect(omar.locator("#ae-plan")).not_to_be_empty()
        omar.locator("#f-plan").scroll_into_view_if_needed()
        shot(omar, "cowrite-02-omar-ar-phone-half-typed-line")
        _no_wider_than_the_window(omar)
        _autosaved(omar, "#f-plan", plan + "\n9 | Déploiement", "saved")
        expect(omar.locator("#ae-plan")).to_be_empty()

        # 3. Saving twice with a stale form: Leila's team is still there
        for _ in range(2):
            with omar.expect_navigation():
                omar.click(SAVE)
            expect(omar.locator("#conflict")).to_have_count(0)
        expect(omar.locator("#f-team")).to_have_value(team)

        # 4. The same field changed by both: side by side, saved only once Omar chooses
        leila.goto(proposal + "/edit")
        _autosaved(leila, "#f-needs", "Les relevés de pression horaires.", "saved")
        _autosaved(omar, "#f-needs", "الوصول إلى غرف الصمامات.", "conflict")
        with omar.expect_navigation():
            omar.click(SAVE)
        conflict = omar.locator("#conflict")
        expect(conflict).to_be_visible()
        expect(conflict.locator(".conflict-value")).to_contain_text("Les relevés de pression horaires.")
        expect(omar.locator("#f-needs")).to_have_value("الوصول إلى غرف الصمامات.")
        shot(omar, "cowrite-03-omar-ar-phone-conflict")
        _no_wider_than_the_window(omar)
        with omar.expect_navigation():
            omar.click(SAVE)  # Save again without choosing: still asked, nothing lost
        expect(omar.locator("#conflict")).to_be_visible()
        omar.check("input[name='keep.needs'][value='both']")
        with omar.expect_navigation():
            omar.click(SAVE)
        expect(omar.locator("#conflict")).to_have_count(0)

        leila.goto(proposal + "/edit")
        needs = leila.locator("#f-needs").input_value()
        assert "Les relevés de pression horaires." in needs and "الوصول إلى غرف الصمامات." in needs
        expect(leila.locator("#f-team")).to_have_value(team)
        shot(leila, "cowrite-04-leila-fr-both-kept")
