"""Browser walk of staff housekeeping: a sponsor removes a file uploaded by mistake, reorders the questions
for applicants and deletes a draft, each destructive step confirmed (French, desktop); a member changes
their name, language and password on the account page (Arabic, phone width)."""

import secrets
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, sign_in

pytestmark = pytest.mark.e2e


def _confirming(page: Page, messages: list[str]) -> None:
    """Accept the next confirmation dialog, keeping what it asked."""

    def accept(dialog) -> None:  # type: ignore[no-untyped-def]
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)


def test_a_sponsor_removes_a_wrong_file_reorders_questions_and_deletes_the_draft(
    page: Page, shot, tmp_path: Path
) -> None:
    title = f"Brouillon à supprimer {secrets.token_hex(3)}"
    sign_in(page, "lydec@medina.test")
    page.goto("/challenges/new")
    page.select_option("#f-programme", label="DataCity Casablanca 2017")
    page.select_option("#f-lead_sponsor", label="Lydec")
    page.fill("#f-title", title)
    page.fill("#f-summary", "Un essai.")
    page.fill("#f-deadline", (datetime.now() + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M"))
    with page.expect_navigation():
        page.click("form.form--wide button[type=submit]")
    challenge_url = page.url

    page.goto(page.locator("a[href$='/datasets/new']").first.get_attribute("href") or "")
    page.fill("#f-title", "Relevés")
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    dataset_url = page.url
    for name, body in (("releves.csv", "armoire,kwh\nA1,10\n"), ("broken.csv", "a,b,c\n1,2,3\n")):
        csv = tmp_path / name
        csv.write_text(body, encoding="utf-8")
        page.set_input_files("#f-file", str(csv))
        with page.expect_navigation():
            page.click("#upload-form button[type=submit]")
    expect(page.locator("#files")).to_contain_text("broken.csv")
    expect(page.locator("[data-confirm-box]").first).to_be_hidden()  # the browser asks instead
    asked: list[str] = []
    _confirming(page, asked)
    with page.expect_navigation():
        page.locator("#files tr", has_text="broken.csv").locator("button").click()
    assert asked and "broken.csv" in asked[0]
    expect(page.locator("#files table")).not_to_contain_text("broken.csv")
    expect(page.locator("#files table")).to_contain_text("releves.csv")
    shot(page, "h4-01-dataset-file-removed")
    assert page.url.startswith(dataset_url)

    page.goto(challenge_url)
    page.goto(page.locator("a[href$='/proposal-questions']").first.get_attribute("href") or "")
    for label in ("Où êtes-vous installés ?", "Combien êtes-vous ?"):
        page.fill("#f-label", label)
        with page.expect_navigation():
            page.click("form.form button[type=submit]")
    second = page.locator(".question-list li", has_text="Combien êtes-vous ?")
    with page.expect_navigation():
        second.locator("form[action$='/move'] button").click()
    expect(page.locator(".question-list li").first).to_contain_text("Combien êtes-vous ?")
    with page.expect_navigation():
        page.locator(".question-list li").first.locator("a[href$='/edit']").click()
    page.fill("#f-label", "Combien de personnes dans l’équipe ?")
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    expect(page.locator(".question-list li").first).to_contain_text("Combien de personnes dans l’équipe ?")
    shot(page, "h4-02-questions-reordered")

    page.goto(challenge_url)
    expect(page.locator("#delete")).to_contain_text("1")
    shot(page, "h4-03-draft-delete-section")
    asked.clear()
    _confirming(page, asked)
    with page.expect_navigation():
        page.click("#delete button[type=submit]")
    assert asked and title in asked[0]
    expect(page.locator(".flash")).to_contain_text(title)
    shot(page, "h4-04-draft-deleted")
    response = page.goto(challenge_url)
    assert response is not None and response.status == 404


def test_a_member_changes_name_language_and_password_on_a_phone(browser, live_server: str, shot) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=live_server, locale="fr-FR", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    email, new_password = "tram@medina.test", f"tram-nouveau-{secrets.token_hex(4)}"
    old_name = "Karim Casa Tram"
    try:
        sign_in(page, email)
        page.goto("/account")
        page.fill("#f-full_name", "كريم الترامواي")
        page.select_option("#f-preferred_language", "ar")
        with page.expect_navigation():
            page.click("form[action='/account'] button[type=submit]")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.locator("#f-full_name")).to_have_value("كريم الترامواي")

        page.fill("#f-current_password", "pas-le-bon-mot-de-passe")
        page.fill("#f-new_password", new_password)
        with page.expect_navigation():
            page.click("form[action='/account/password'] button[type=submit]")
        expect(page.locator("#password .field--invalid")).to_have_count(1)
        shot(page, "h4-05-account-password-refused-ar-phone")
        page.fill("#f-current_password", DEMO_PASSWORD)
        page.fill("#f-new_password", new_password)
        with page.expect_navigation():
            page.click("form[action='/account/password'] button[type=submit]")
        expect(page.locator(".flash--success")).to_be_visible()
        shot(page, "h4-06-account-changed-ar-phone")

        page.context.clear_cookies()
        sign_in(page, email, new_password)
        page.goto("/account")
        expect(page.locator("#f-full_name")).to_have_value("كريم الترامواي")
    finally:  # the demo account goes back as it was, for the other journeys
        page.goto("/account")
        if page.locator("#f-current_password").count():
            page.fill("#f-current_password", new_password)
            page.fill("#f-new_password", DEMO_PASSWORD)
            with page.expect_navigation():
                page.click("form[action='/account/password'] button[type=submit]")
            page.fill("#f-full_name", old_name)
            page.select_option("#f-preferred_language", "fr")
            with page.expect_navigation():
                page.click("form[action='/account'] button[type=submit]")
        context.close()
