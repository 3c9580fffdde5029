"""Browser walk of errors a person can act on and of the layout at phone width: a bad country, video link,
test-site line and KPI line each mark their own field and are named in the summary; the challenge page, with a
question holding a long unbroken URL, is never wider than a 390 px screen in French or Arabic, and its
scrollable tables take the keyboard focus. Screenshots in French, English and Arabic."""

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

CHALLENGE = "/programmes/casablanca-2017/challenges/fuites-reseau-eau"
LONG_URL = "https://example.org/" + "donnees-des-fuites-du-reseau-de-distribution-" * 6 + "casablanca.csv"


@contextmanager
def _visit(browser: Browser, base_url: str, locale: str, width: int = 1280, height: int = 900) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, locale=locale, viewport={"width": width, "height": height})
    context.add_cookies([{"name": "medina_lang", "value": locale[:2], "url": base_url}])
    try:
        yield context.new_page()
    finally:
        context.close()


def _submit(page: Page, form: str) -> None:
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")


def _assert_marked(page: Page, name: str) -> None:
    field = page.locator(f"#f-{name}")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#e-{name}")).to_be_visible()
    expect(page.locator(f".form__errors a[href='#f-{name}']")).to_have_count(1)


def test_bad_inputs_mark_their_fields(browser: Browser, live_server: str, shot) -> None:
    with _visit(browser, live_server, "fr-FR") as page:
        sign_in(page, "startup2@medina.test")
        page.goto("/organisations/aquasense/profile")
        expect(page.locator("#f-country option[value='MA']")).to_have_text("Maroc")
        # a value the list does not offer (an old bookmark, a tampered form) is refused on the field
        page.evaluate("document.querySelector('#f-country').add(new Option('Maroc', 'Maroc', true, true))")
        expect(page.locator("#f-country")).to_have_value("Maroc")
        _submit(page, "form.form--wide")
        _assert_marked(page, "country")
        shot(page, "errors-fr-country")

        page.goto("/my/applications")
        draft = page.locator("main tr", has_text="Brouillon").locator("a[href^='/proposals/']").first
        page.goto((draft.get_attribute("href") or "").removesuffix("/edit") + "/edit")
        page.fill("#f-video_url", "vimeo point com")
        with page.expect_navigation():
            page.click("button[name=then][value=review]")
        _assert_marked(page, "video_url")
        expect(page.locator(".form__errors li")).to_have_count(1)
        shot(page, "errors-fr-video")

    with _visit(browser, live_server, "en-GB") as page:
        sign_in(page, "lydec@medina.test")
        page.goto("/challenges/new")
        page.select_option("#f-lead_sponsor", label="Lydec")
        page.fill("#f-title", f"Essai {secrets.token_hex(3)}")
        page.fill("#f-summary", "Un essai.")
        page.fill("#f-deadline", (datetime.now() + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M"))
        page.fill("#f-kpis", "Pertes | % | 24 | 18\nmauvaise ligne")
        page.fill("#f-test_sites", "Anfa | Bd d'Anfa | 95 | 200")
        _submit(page, "form.form--wide")
        _assert_marked(page, "kpis")
        _assert_marked(page, "test_sites")
        expect(page.locator("#e-kpis")).to_contain_text("Line 2")
        expect(page.locator("#e-test_sites")).to_contain_text("Line 1")
        expect(page.locator("#f-kpis")).to_have_value("Pertes | % | 24 | 18\nmauvaise ligne")
        shot(page, "errors-en-challenge-lines")


def _width(page: Page) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth"))


def test_the_challenge_page_fits_a_phone_with_a_long_url_in_a_question(
    browser: Browser, live_server: str, shot
) -> None:
    with _visit(browser, live_server, "fr-FR") as page:
        sign_in(page, "startup@medina.test")
        page.goto(CHALLENGE)
        page.fill("#f-body", f"Où trouver ce fichier ? {LONG_URL}")
        _submit(page, "form[action$='/questions']")
        page.context.clear_cookies()
        sign_in(page, "lydec@medina.test")
        page.goto(CHALLENGE)
        answer = page.locator("#qa textarea[name=answer]").last
        answer.fill(f"Le voici : {LONG_URL}")
        with page.expect_navigation():
            answer.locator("xpath=ancestor::form").locator("button[type=submit]").click()

    for locale in ("fr-FR", "ar"):
        with _visit(browser, live_server, locale, width=390, height=844) as page:
            page.goto(CHALLENGE)
            expect(page.locator("#qa")).to_contain_text("casablanca.csv")
            assert _width(page) <= 390, (locale, _width(page))
            kpis = page.locator("section[aria-labelledby=kpis] .table-wrap")
            expect(kpis).to_have_attribute("tabindex", "0")
            target = page.locator("section[aria-labelledby=kpis] thead th").last
            box = target.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (locale, box)
            folder = shot(page, f"layout-{locale[:2]}-challenge-phone").parent
            for part in ("section[aria-labelledby=kpis]", "section[aria-labelledby=sites]", "#qa"):
                name = part.split("=")[-1].strip("]#")
                page.locator(part).screenshot(path=str(folder / f"layout-{locale[:2]}-phone-{name}.png"))
    with _visit(browser, live_server, "en-GB", width=390, height=844) as page:
        page.goto("/challenges")
        expect(page.locator(".challenge-card__image--empty")).to_have_count(0)
        shot(page, "layout-en-list-phone")


def test_a_table_that_scrolls_on_a_phone_takes_the_keyboard_focus_and_is_named(
    browser: Browser, live_server: str, shot
) -> None:
    with _visit(browser, live_server, "fr-FR", width=390, height=844) as page:
        sign_in(page, "admin@medina.test")
        page.goto("/admin/users")
        wrap = page.locator(".table-wrap").first
        assert page.evaluate(
            "document.querySelector('.table-wrap').scrollWidth > document.querySelector('.table-wrap').clientWidth"
        )
        expect(wrap).to_have_attribute("tabindex", "0")
        expect(wrap).to_have_attribute("role", "region")
        expect(wrap).to_have_attribute("aria-label", re.compile(r"\w"))
        wrap.focus()
        page.keyboard.press("ArrowRight")
        expect(wrap).to_be_focused()
        shot(page, "layout-fr-phone-admin-users-table")
    with _visit(browser, live_server, "fr-FR") as page:  # wide enough: nothing to scroll, no tab stop
        sign_in(page, "admin@medina.test")
        page.goto("/admin/users")
        if not page.evaluate(
            "document.querySelector('.table-wrap').scrollWidth > document.querySelector('.table-wrap').clientWidth + 1"
        ):
            expect(page.locator(".table-wrap").first).not_to_have_attribute("tabindex", "0")
