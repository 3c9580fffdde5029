"""Browser journey of the challenges issue: a sponsor writes a challenge, uploads a CSV, sees its preview and
data dictionary, publishes, and a visitor finds it with the filters."""

import secrets
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "casablanca-demo-2017"


def _sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.fill("#f-email", email)
    page.fill("#f-password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")


def test_sponsor_publishes_a_challenge_with_data_and_a_visitor_finds_it(page: Page, shot, tmp_path: Path) -> None:
    title = f"Éclairage public intelligent {secrets.token_hex(3)}"
    _sign_in(page, "lydec@medina.test")

    page.goto("/challenges/new")
    page.select_option("#f-programme", label="DataCity Casablanca 2017")
    page.select_option("#f-lead_sponsor", label="Lydec")
    page.fill("#f-title", title)
    page.fill("#f-summary", "Réduire la consommation de l'éclairage public sans dégrader la sécurité.")
    page.fill("#f-problem", "L'éclairage public pèse **lourd** dans la facture énergétique de la ville.")
    page.check("input[name=themes][value=energy]")
    page.check("input[name=sdgs][value='7']")
    page.fill("#f-kpis", "Consommation annuelle | MWh | 1200 | 900")
    page.fill("#f-test_sites", "Boulevard de la Corniche | Aïn Diab | 33.5950 | -7.6700")
    deadline = (datetime.now() + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#f-deadline", deadline)
    shot(page, "20-challenge-form")
    with page.expect_navigation():
        page.click("form.form--wide button[type=submit]")
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator(".page-header .badge")).to_be_visible()  # draft badge
    shot(page, "21-challenge-draft")

    page.click("a[href$='/datasets/new']")
    page.fill("#f-title", "Consommation par armoire électrique")
    page.fill("#f-description", "Relevés horaires (données synthétiques).")
    page.select_option("#f-access", "public")
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    csv = tmp_path / "consommation.csv"
    rows = ["armoire,quartier,heure,kwh"] + [f"A{n:03d},Maârif,{n % 24:02d}:00,{10 + n % 7}.5" for n in range(60)]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    page.set_input_files("#f-file", str(csv))
    with page.expect_navigation():
        page.click("#upload-form button[type=submit]")
    expect(page.locator("#files")).to_contain_text("consommation.csv")
    preview = page.locator("table").filter(has_text="A001")
    expect(preview.first).to_be_visible()
    expect(page.locator("#schema")).to_contain_text("kwh")
    page.fill("#f-description_3", "Énergie consommée pendant l'heure")
    page.fill("#f-unit_3", "kWh")
    with page.expect_navigation():
        page.click("#schema button[type=submit]")
    expect(page.locator("#f-unit_3")).to_have_value("kWh")
    shot(page, "22-dataset-preview-and-dictionary")

    page.go_back()
    page.go_back()
    page.goto(page.url)  # back on the challenge page
    page.goto("/challenges?q=" + title.split()[-1])
    with page.expect_navigation():
        page.click(f"text={title}")
    with page.expect_navigation():
        page.click("form[action$='/publish'] button")
    expect(page.locator(".page-header .badge--ok")).to_be_visible()
    shot(page, "23-challenge-published")

    with page.expect_navigation():
        page.click("form[action='/logout'] button")
    page.goto("/challenges")
    page.select_option("#f-theme", "energy")
    page.fill("#f-q", title.split()[-1])
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    card = page.locator(".challenge-card").filter(has_text=title)
    expect(card).to_have_count(1)
    shot(page, "24-visitor-finds-challenge")
    with page.expect_navigation():
        card.locator("h2 a").click()
    expect(page.locator("body")).to_contain_text("Consommation par armoire électrique")
    expect(page.locator("body")).to_contain_text("1200")
    shot(page, "25-visitor-challenge-page")
