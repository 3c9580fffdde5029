"""Where to start, in a browser on the demo: the visitor's home shows the programme and open challenges; a
startup's home its profile gaps, drafts and receipts; a sponsor's home its challenges, including the closed
street-lighting call with proposals to check; and on a phone, in French, English and Arabic, a challenge
page puts its call to action near the top and tells a visitor that data awaits them once signed in."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import SCREENSHOTS, sign_in

pytestmark = pytest.mark.e2e

WATER = "/programmes/casablanca-2017/challenges/fuites-reseau-eau"


@contextmanager
def _visit(
    browser: Browser, base_url: str, *, locale: str = "fr-FR", width: int = 1280, height: int = 900
) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, locale=locale, viewport={"width": width, "height": height})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_visitor_startup_and_sponsor_homes(browser, live_server, shot):
    with _visit(browser, live_server) as page:
        page.goto("/")
        expect(page.locator(".hero a[href='/challenges?status=published']")).to_be_visible()
        expect(
            page.locator("section[aria-labelledby='programmes-now'] a[href='/programmes/casablanca-2017']")
        ).to_be_visible()
        expect(page.locator(f"section[aria-labelledby='open-challenges'] a[href='{WATER}']")).to_be_visible()
        shot(page, "where-01-visitor-home-fr")

        sign_in(page, "startup2@medina.test")  # AquaSense: a draft to the water challenge, a submitted proposal
        page.goto("/")
        expect(page.locator("a[href='/organisations/aquasense/profile#logo']")).to_be_visible()
        expect(page.locator("section[aria-labelledby='my-drafts'] a[href$='/edit']")).to_have_count(1)
        expect(page.locator("section[aria-labelledby='my-submitted'] .receipt-ref")).to_have_count(1)
        expect(page.locator("section[aria-labelledby='for-you'] .badge--ok").first).to_be_visible()  # its sectors
        shot(page, "where-02-startup-home-fr")

    with _visit(browser, live_server, locale="en-GB") as page:
        # the city sponsors two closed calls: street lighting (its lead) and school safety
        sign_in(page, "city@medina.test")
        page.goto("/")
        sponsored = page.locator("section[aria-labelledby='sponsored']")
        expect(sponsored.locator("a[href$='/proposals']")).to_have_count(2)
        expect(sponsored.locator(".badge--warn").first).to_be_visible()  # one proposal still to check
        shot(page, "where-03-sponsor-home-en")
    with _visit(browser, live_server, locale="en-GB") as page:
        sign_in(page, "operator@medina.test")
        page.goto("/")
        expect(page.locator(".home-todo a[href$='/proposals']")).to_have_count(1)
        shot(page, "where-04-operator-home-en")


@pytest.mark.parametrize("locale", ["fr-FR", "en-GB", "ar-MA"])
def test_the_challenge_page_on_a_phone_calls_to_action_near_the_top(browser, live_server, shot, locale):
    with _visit(browser, live_server, locale=locale, width=390, height=844) as page:
        page.goto(WATER)
        aside = page.locator(".challenge-aside")
        box = aside.bounding_box()
        assert box is not None and box["y"] < 844, box  # in the first screen, not after 3,900 px
        expect(aside.locator("a[href='/register']")).to_be_visible()
        expect(aside.locator(f"a[href='/login?next={WATER}']")).to_be_visible()
        teaser = page.locator("#datasets a[href^='/login?next=']")
        expect(teaser).to_have_count(2)  # the two datasets for registered users, by title and licence
        shot(page, f"where-05-challenge-phone-{locale[:2]}")
        page.screenshot(path=str(SCREENSHOTS / f"where-06-challenge-phone-{locale[:2]}-first-screen.png"))
        page.locator("#datasets").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"where-07-challenge-phone-{locale[:2]}-datasets.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        teaser.first.click()
        expect(page).to_have_url(f"{live_server}/login?next={WATER}")
