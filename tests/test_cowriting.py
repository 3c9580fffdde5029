"""Co-writing a proposal: teammates' saves merge field by field, a field changed by both is never silently
overwritten, and one field that cannot be read never stops the others from saving."""

import re

import pytest
from sqlmodel import delete

from app.proposals import service as proposals
from app.proposals.drafts import field_values as drafts_values
from app.proposals.models import Proposal, ProposalRevision
from app.proposals.schemas import ProposalCreate
from tests.conftest import sign_in

HIDDEN = re.compile(r'<input type="hidden" name="(csrf_token|revision|editor)" value="([^"]*)"')
FORM = {
    "title": "AquaSense",
    "summary": "Acoustic sensors find leaks early.",
    "description": "Sensors on valves.",
    "data_use": "Pressure data.",
    "experimentation_plan": "Twelve sensors in Ain Sebaâ.",
    "team": "",
    "trl": "5",
    "plan": "1 | Sensors installed",
    "needs": "",
    "video_url": "",
}
ORIGIN = {"Origin": "http://testserver", "Accept-Language": "en"}


@pytest.fixture
def world(db, make):
    lydec = make.organisation("partner", name="Lydec")
    challenge = make.published_challenge(lydec)
    startup = make.organisation("startup", name="AquaSense")
    leila = make.user(organisation=startup, role="admin", name="Leila")
    omar = make.user(organisation=startup, name="Omar")
    view = proposals.create_proposal(db, make.actor(leila), ProposalCreate(challenge=challenge.id))
    db.flush()
    return {"leila": leila, "omar": omar, "proposal": view.proposal}


class Editor:
    """One person's browser tab on the proposal form: the form as drawn, then what they type."""

    def __init__(self, client, email: str, proposal_id: int) -> None:
        self.client, self.email, self.proposal_id = client, email, proposal_id
        self.edit = f"/proposals/{proposal_id}/edit"
        self.open()

    def _as_me(self) -> None:
        self.client.cookies.clear()
        sign_in(self.client, self.email)

    def open(self) -> None:
        self._as_me()
        page = self.client.get(self.edit)
        assert page.status_code == 200
        self.hidden = dict(HIDDEN.findall(page.text))
        self.form = dict(FORM)

    def save(self, **typed: str):
        self._as_me()
        self.hidden["csrf_token"] = dict(HIDDEN.findall(self.client.get(self.edit).text))["csrf_token"]
        self.form.update(typed)
        response = self.client.post(self.edit, data={**self.hidden, **self.form}, headers=ORIGIN)
        seen = re.search(r'name="seen" value="(\d+)"', response.text)
        if seen:  # the conflict screen: what it shows is what the editor's choices are made on
            self.hidden["seen"] = seen.group(1)
        return response

    def autosave(self, **typed: str):
        self._as_me()
        self.hidden["csrf_token"] = dict(HIDDEN.findall(self.client.get(self.edit).text))["csrf_token"]
        self.form.update(typed)
        return self.client.post(
            f"/proposals/{self.proposal_id}/autosave",
            data={**self.hidden, **self.form},
            headers={**ORIGIN, "HX-Request": "true"},
        )


def _saved(db, world) -> Proposal:
    db.expire_all()
    return db.get(Proposal, world["proposal"].id)


def test_teammates_editing_different_fields_both_keep_their_text_even_after_saving_twice(client, db, world):
    leila = Editor(client, world["leila"].email, world["proposal"].id)
    omar = Editor(client, world["omar"].email, world["proposal"].id)
    assert leila.save(team="Leila | CEO\nOmar | CTO").status_code == 303
    # Omar's form still has the team empty: his save keeps Leila's team and adds his needs
    assert omar.save(needs="Access to the pumping station.").status_code == 303
    assert omar.save().status_code == 303  # pressing Save again changes nothing
    saved = _saved(db, world)
    assert saved.team == [{"name": "Leila", "role": "CEO"}, {"name": "Omar", "role": "CTO"}]
    assert saved.needs == "Access to the pumping station."


def test_a_field_changed_by_both_is_shown_side_by_side_and_saved_only_once_someone_chooses(client, db, world):
    leila = Editor(client, world["leila"].email, world["proposal"].id)
    omar = Editor(client, world["omar"].email, world["proposal"].id)
    assert leila.save(needs="Leila's needs.").status_code == 303
    response = omar.save(needs="Omar's needs.", video_url="https://example.org/pitch")
    assert response.status_code == 409
    assert "Leila&#39;s needs." in response.text and "Omar&#39;s needs." in response.text
    assert 'name="keep.needs" value="both"' in response.text
    saved = _saved(db, world)
    assert (
        saved.needs == "Leila's needs." and saved.video_url == "https://example.org/pitch"
    )  # his other change is saved
    # Save again without choosing: still nothing of Leila's is lost
    assert omar.save().status_code == 409
    assert _saved(db, world).needs == "Leila's needs."
    omar.form["keep.needs"] = "both"
    assert omar.save().status_code == 303
    assert _saved(db, world).needs == "Leila's needs.\n\nOmar's needs."


@pytest.mark.parametrize(("choice", "expected"), [("mine", "Omar's needs."), ("theirs", "Leila's needs.")])
def test_the_editor_may_keep_their_own_text_or_the_teammates(client, db, world, choice, expected):
    leila = Editor(client, world["leila"].email, world["proposal"].id)
    omar = Editor(client, world["omar"].email, world["proposal"].id)
    leila.save(needs="Leila's needs.")
    assert omar.save(needs="Omar's needs.").status_code == 409
    omar.form["keep.needs"] = choice
    assert omar.save().status_code == 303
    assert _saved(db, world).needs == expected


def test_an_editors_own_autosaves_are_never_a_conflict_with_themselves(client, db, world):
    omar = Editor(client, world["omar"].email, world["proposal"].id)
    for text in ("Sensors", "Sensors and data", "Sensors and data access"):
        response = omar.autosave(needs=text)
        assert response.status_code == 200 and "autosave--saved" in response.text
    assert _saved(db, world).needs == "Sensors and data access"


def test_a_second_tab_is_a_teammate_of_the_first(client, db, world):
    first = Editor(client, world["omar"].email, world["proposal"].id)
    second = Editor(client, world["omar"].email, world["proposal"].id)
    first.autosave(needs="From the first tab.")
    response = second.autosave(needs="From the second tab.")
    assert "autosave--conflict" in response.text
    assert _saved(db, world).needs == "From the first tab."


def test_autosave_merges_a_teammates_change_and_says_so(client, db, world):
    leila = Editor(client, world["leila"].email, world["proposal"].id)
    omar = Editor(client, world["omar"].email, world["proposal"].id)
    leila.save(team="Leila | CEO")
    response = omar.autosave(needs="Sensors.")
    assert "autosave--saved" in response.text and "Team and roles" in response.text
    saved = _saved(db, world)
    assert saved.team == [{"name": "Leila", "role": "CEO"}] and saved.needs == "Sensors."


def test_a_half_typed_plan_line_saves_everything_else_and_says_so_on_the_field(client, db, world):
    omar = Editor(client, world["omar"].email, world["proposal"].id)
    response = omar.autosave(plan="1 | Sensors installed\n12", needs="Typed meanwhile.")
    assert response.status_code == 200 and "autosave--invalid" in response.text
    slot = re.search(r'<span class="field__live-error" id="ae-plan" hx-swap-oob="true">([^<]*)</span>', response.text)
    assert slot and "Line 2: give a month from 1 to 9, then the milestone." in slot.group(1)
    saved = _saved(db, world)
    assert saved.needs == "Typed meanwhile." and saved.plan == []  # the plan as it was; the line stays typed
    # the line finished: saved
    response = omar.autosave(plan="1 | Sensors installed\n2 | First readings")
    assert "autosave--saved" in response.text
    assert [m["month"] for m in _saved(db, world).plan] == [1, 2]


def test_the_save_button_reports_every_problem_at_once_and_saves_the_rest(client, db, world):
    omar = Editor(client, world["omar"].email, world["proposal"].id)
    response = omar.save(plan="twelve", summary="x" * 501, video_url="not a link", needs="Kept.")
    assert response.status_code == 422
    text = response.text
    assert "Line 1: give a month from 1 to 9, then the milestone." in text
    assert "Use at most 500 characters." in text and "Enter a valid web address" in text
    assert "Choose one of the options" not in text
    assert "twelve" in text and "not a link" in text  # the input is kept
    saved = _saved(db, world)
    assert saved.needs == "Kept." and saved.summary == "" and saved.video_url == ""


def test_without_history_a_field_changed_on_both_sides_is_a_conflict(client, db, world):
    leila = Editor(client, world["leila"].email, world["proposal"].id)
    omar = Editor(client, world["omar"].email, world["proposal"].id)
    leila.save(needs="Leila's needs.")
    db.exec(delete(ProposalRevision).where(ProposalRevision.revision == 1))  # a proposal older than the history
    db.flush()
    assert omar.save(needs="Omar's needs.").status_code == 409
    assert _saved(db, world).needs == "Leila's needs."


def test_a_change_made_through_the_api_merges_with_the_web_form(client, db, world, make):
    omar = Editor(client, world["omar"].email, world["proposal"].id)
    _, secret = make.token(world["leila"], scope="write")
    patched = client.patch(
        f"/api/v1/proposals/{world['proposal'].id}",
        json={"team": [{"name": "Leila", "role": "CEO"}]},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert patched.status_code == 200, patched.text
    assert omar.save(needs="Sensors.").status_code == 303
    saved = _saved(db, world)
    assert saved.team == [{"name": "Leila", "role": "CEO"}] and saved.needs == "Sensors."


def test_a_choice_never_overwrites_a_teammates_text_the_editor_was_not_shown(client, db, world):
    omar = Editor(client, world["omar"].email, world["proposal"].id)
    leila = Editor(client, world["leila"].email, world["proposal"].id)
    omar.save(summary="Omar v1")
    conflict = leila.save(summary="Leila's summary")
    assert conflict.status_code == 409 and "Omar v1" in conflict.text
    omar.open()
    omar.save(summary="Omar v2")  # after Leila's conflict screen was drawn
    leila.form["keep.summary"] = "mine"
    response = leila.save()
    assert response.status_code == 409 and "Omar v2" in response.text  # shown again, with the newer text
    assert _saved(db, world).summary == "Omar v2"
    assert leila.save().status_code == 303  # chosen on what she was shown
    assert _saved(db, world).summary == "Leila's summary"


def test_line_endings_alone_are_no_change_so_no_conflict_with_a_teammate_who_edited_the_text(client, db, world):
    proposal = _saved(db, world)
    proposal.needs = "Line one.\r\nLine two."  # a draft saved before line endings were made one
    db.add(proposal)
    db.exec(delete(ProposalRevision))
    changes = {**drafts_values(proposal), "needs": proposal.needs}
    db.add(ProposalRevision(proposal_id=proposal.id, revision=proposal.revision, full=True, changes=changes))
    db.flush()
    leila = Editor(client, world["leila"].email, world["proposal"].id)
    omar = Editor(client, world["omar"].email, world["proposal"].id)
    leila.form["needs"] = omar.form["needs"] = "Line one.\r\nLine two."  # as the browsers send it back
    assert leila.save(team="Leila | CEO").status_code == 303  # she did not touch the needs
    assert omar.save(needs="Line one.\r\nLine two, longer.").status_code == 303
    assert _saved(db, world).needs == "Line one.\nLine two, longer."
