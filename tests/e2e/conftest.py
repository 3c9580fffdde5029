"""End-to-end fixtures: a real Medina server (migrated database, demo data) driven by Chromium.

- `live` (session) and `live_server` (its base URL): a real server on a migrated database with the demo
  (tests/liveserver.py).
- `mailbox(email, fragment)`: the path of the last link containing `fragment` emailed to that address.
- `browser` (session): Debian's Chromium (Playwright cannot download its own here). Missing Chromium skips
  the e2e tests, except in CI (CI=true) where it fails them.
- `page` (function): a fresh browser context (own cookies) and page.
- `shot(page, name)`: a full-page screenshot under test-output/screenshots/.
"""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.liveserver import REPO_ROOT, LiveServer, running_server

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
DEFAULT_TIMEOUT_MS = 10_000
DEMO_PASSWORD = "casablanca-demo-2017"  # every demo account's (app/demo.py)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def live() -> Iterator[LiveServer]:
    with running_server("e2e") as server:
        yield server


@pytest.fixture(scope="session")
def live_server(live: LiveServer) -> str:
    return live.base_url


@pytest.fixture
def mailbox(live: LiveServer) -> Callable[[str, str], str]:
    """`mailbox(email, "/email/confirm/")`: the path of the last such link emailed to that address. With no
    SMTP server the development server writes each email, links included, to its log (the outbox withholds
    them)."""

    def last_link(to: str, fragment: str) -> str:
        pattern = re.compile(rf"email \d+ to {re.escape(to)} \(no MEDINA_SMTP_URL")
        text = live.log_path.read_text(errors="replace")
        found = [m.end() for m in pattern.finditer(text)]
        assert found, f"no email to {to} in the server log"
        for line in text[found[-1] :].splitlines():
            if fragment in line:
                return line.strip().removeprefix(live.base_url)
        raise AssertionError(f"the last email to {to} has no link to {fragment}")

    return last_link


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


def sign_in(page, email: str, password: str = DEMO_PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the form (a demo account unless told) and wait for the signed-in page."""
    from playwright.sync_api import expect

    page.goto("/login")
    page.fill("#f-email", email)
    page.fill("#f-password", password)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")
    expect(page.locator("form[action='/logout']")).to_have_count(1)
