"""What the challenge form offers is what the service accepts: a sponsor's staff lead for their own
organisation; the programme's operator may name any sponsor organisation as lead (its own first, the default)."""

import re

from tests.conftest import sign_in


def _lead_options(page: str) -> list[str]:
    select = page[page.index('name="lead_sponsor"') :]
    select = select[: select.index("</select>")]
    return re.findall(r"<option[^>]*>([^<]+)</option>", select)


def test_a_partners_staff_are_offered_their_own_organisation_as_lead(client, make):
    operator = make.organisation("operator", name="Technopark")
    lydec, inwi = make.organisation("partner", name="Lydec"), make.organisation("partner", name="inwi")
    make.programme(operator, partners=[lydec, inwi])
    sign_in(client, make.user(organisation=lydec).email)
    assert _lead_options(client.get("/challenges/new").text) == ["Lydec"]


def test_the_operator_is_offered_every_sponsor_organisation_as_lead_its_own_first(client, make):
    operator = make.organisation("operator", name="Technopark")
    lydec, city = make.organisation("partner", name="Lydec"), make.organisation("city", name="Casablanca")
    make.organisation("startup", name="Wayz")
    make.programme(operator, partners=[lydec])
    sign_in(client, make.user(organisation=operator).email)
    options = _lead_options(client.get("/challenges/new").text)
    assert options[0] == "Technopark"
    assert {"Lydec", "Casablanca"} <= set(options) and "Wayz" not in options
    assert city.name in options
