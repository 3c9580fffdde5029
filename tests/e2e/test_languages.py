"""Browser walk of "French and Arabic throughout": a challenge page, a dataset page and a startup's proposal
review with its IP terms, in French, English and Arabic (Arabic also at phone width), on the demo data.

What is checked: the IP terms are in the reader's language (and marked with it), sizes and counts are
written the language's way, dates carry no seconds, and user text on Arabic pages is isolated.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import SCREENSHOTS, sign_in

pytestmark = pytest.mark.e2e

WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LOCALES = {"fr": "fr-FR", "en": "en-GB", "ar": "ar-MA"}
TERMS_START = {"fr": "La propriété intellectuelle", "en": "The intellectual property", "ar": "تظل الملكية الفكرية"}


@contextmanager
def _reader(browser: Browser, base_url: str, language: str, viewport: dict[str, int]) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, locale=LOCALES[language], viewport=viewport)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _challenge_path(page: Page) -> str:
    page.goto("/challenges")
    link = page.locator("main a[href$='/challenges/collecte-dechets']").first
    return str(link.get_attribute("href"))


@pytest.mark.parametrize(
    ("language", "viewport"), [("fr", WIDE), ("en", WIDE), ("ar", WIDE), ("ar", PHONE)], ids=lambda v: str(v)
)
def test_challenge_and_dataset_pages_speak_the_readers_language(browser, live_server, shot, language, viewport):
    width = "phone" if viewport is PHONE else "wide"
    with _reader(browser, live_server, language, viewport) as page:
        page.goto(_challenge_path(page))
        expect(page.locator("html")).to_have_attribute("lang", language)
        terms = page.locator("section[aria-labelledby='ip'] div[dir='auto']")
        expect(terms).to_have_attribute("lang", language)
        expect(terms).to_contain_text(TERMS_START[language])
        aside = page.locator(".challenge-aside").inner_text()
        assert not re.search(r"\d:\d\d:\d\d", aside), aside  # no seconds
        unit = page.locator("section[aria-labelledby='kpis'] td[dir='auto']", has_text="% des points de collecte")
        expect(unit).to_have_count(1)
        shot(page, f"languages-challenge-{language}-{width}")
        close_ups = {
            "aside": ".challenge-aside",
            "kpis": "section[aria-labelledby='kpis']",
            "ip": "section[aria-labelledby='ip']",
        }
        for part, selector in close_ups.items():  # close-ups, readable at phone width
            close_up = SCREENSHOTS / f"languages-challenge-{language}-{width}-{part}.png"
            page.locator(selector).screenshot(path=str(close_up))

        page.locator("#datasets h3 a").first.click()
        page.wait_for_load_state()
        files = page.locator("#files").inner_text()
        expected_unit = {"fr": "Kio", "en": "KiB", "ar": "ك.ب"}[language]
        assert expected_unit in files, files
        if language == "fr":
            assert re.search(r"\d,\d Kio", files) and "KiB" not in files
        expect(page.locator("h1[dir='auto']")).to_have_count(1)
        expect(page.locator("section[aria-label][dir='auto']")).to_have_count(1)
        shot(page, f"languages-dataset-{language}-{width}")


@pytest.mark.parametrize(("language", "viewport"), [("fr", WIDE), ("en", WIDE), ("ar", PHONE)], ids=lambda v: str(v))
def test_the_proposal_review_shows_the_terms_accepted_in_the_readers_language(
    browser, live_server, shot, language, viewport
):
    width = "phone" if viewport is PHONE else "wide"
    with _reader(browser, live_server, language, viewport) as page:
        sign_in(page, "startup3@medina.test")
        page.goto("/my/applications")
        links = page.locator("main a[href^='/proposals/']:not([href*='/versions/'])")
        addresses = [links.nth(i).get_attribute("href") for i in range(links.count())]
        details = page.locator("details.proposal-terms")
        for address in addresses:  # the demo's draft, the one that can still be submitted
            page.goto(str(address))
            if details.count():
                break
        expect(details).to_have_count(1)
        if details.get_attribute("open") is None:
            details.locator("summary").click()
        terms = details.locator("div[dir='auto'][lang]")
        expect(terms).to_have_attribute("lang", language)
        expect(terms).to_contain_text(TERMS_START[language])
        expect(page.locator("input[name='terms_language']")).to_have_value(language)
        shot(page, f"languages-proposal-{language}-{width}")
        terms_form = page.locator("form[action$='/submit']")
        details.screenshot(path=str(SCREENSHOTS / f"languages-proposal-{language}-{width}-terms.png"))
        terms_form.screenshot(path=str(SCREENSHOTS / f"languages-proposal-{language}-{width}-accept.png"))
