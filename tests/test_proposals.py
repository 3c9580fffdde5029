"""Proposals (service level): drafts, the version check, submission with terms and receipts, the deadline
decided by the server clock, withdrawal, confidentiality, eligibility, exports, extra questions."""

import contextvars
import csv
import io
import zipfile
from datetime import timedelta

import pytest
from sqlmodel import select

from app import i18n
from app.challenges.models import ChallengeTerms
from app.db import utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.notifications.models import OutboxMessage
from app.proposals import attachments, exports, queries, questions, records, service
from app.proposals.models import Proposal, ProposalVersion
from app.proposals.schemas import EligibilityDecision, ProposalCreate, ProposalUpdate, QuestionCreate

COMPLETE = {
    "title": "LeakSense",
    "summary": "Acoustic sensors find leaks early.",
    "description": "Sensors on valves, a model that listens.",
    "data_use": "We train on the network's pressure data.",
    "experimentation_plan": "Twelve sensors in Ain Sebaâ for three months.",
    "team": [{"name": "Salma", "role": "CEO"}],
    "trl": 5,
    "plan": [{"month": 1, "milestone": "Sensors installed"}],
}


@pytest.fixture
def world(db, make):
    operator_org = make.organisation("operator")
    lydec = make.organisation("partner", slug="lydec-p", name="Lydec")
    programme = make.programme(operator_org, partners=[lydec], slug="casa-p", name="Casablanca")
    challenge = make.published_challenge(
        lydec, programme=programme, slug="leaks", title="Water leaks", kpis=[{"name": "Non-revenue water", "unit": "%"}]
    )
    startup_a = make.organisation("startup", name="LeakSense SARL")
    startup_b = make.organisation("startup", name="Other startup")
    db.flush()
    return {
        "challenge": challenge,
        "sponsor": make.actor(make.user(organisation=lydec)),
        "operator": make.actor(make.user(organisation=operator_org)),
        "alice": make.actor(make.user(organisation=startup_a, role="admin", name="Alice")),
        "bob": make.actor(make.user(organisation=startup_a, name="Bob")),
        "other": make.actor(make.user(organisation=startup_b, role="admin")),
        "startup_a": startup_a,
    }


def _draft(db, world, **fields):
    return service.create_proposal(
        db, world["alice"], ProposalCreate(challenge=world["challenge"].id, **{"title": "LeakSense", **fields})
    )


def _close(db, world):
    world["challenge"].deadline = utcnow() - timedelta(minutes=1)
    db.add(world["challenge"])
    db.flush()


def test_a_member_creates_a_draft_that_only_its_startup_sees(db, world):
    view = _draft(db, world)
    assert view.status == "draft" and view.startup.id == world["startup_a"].id
    assert records.get_proposal(db, world["bob"], view.proposal.id).proposal.title == "LeakSense"
    for outsider in ("other", "sponsor", "operator"):
        with pytest.raises(NotFound):
            records.get_proposal(db, world[outsider], view.proposal.id)


def test_one_proposal_per_startup_per_challenge(db, world):
    _draft(db, world)
    with pytest.raises(Conflict):
        service.create_proposal(db, world["bob"], ProposalCreate(challenge=world["challenge"].id))


def test_sponsors_cannot_apply(db, world):
    with pytest.raises(Forbidden):
        service.create_proposal(db, world["sponsor"], ProposalCreate(challenge=world["challenge"].id))


def test_a_stale_save_is_refused_and_keeps_the_other_save(db, world):
    view = _draft(db, world)
    loaded = view.proposal.revision
    service.update_proposal(db, world["alice"], view, ProposalUpdate(summary="Alice's"), expected_revision=loaded)
    bob_view = records.get_proposal(db, world["bob"], view.proposal.id)
    with pytest.raises(service.StaleRevision) as caught:
        service.update_proposal(db, world["bob"], bob_view, ProposalUpdate(summary="Bob's"), expected_revision=loaded)
    assert caught.value.current.summary == "Alice's"
    assert db.get(Proposal, view.proposal.id).summary == "Alice's"


def test_submission_needs_the_required_fields_and_the_terms(db, world):
    view = _draft(db, world)
    with pytest.raises(Invalid) as caught:
        service.submit_proposal(db, world["alice"], view, accept_terms=True)
    assert {"summary", "description", "team", "trl", "plan"} <= set(caught.value.errors)
    view = service.update_proposal(db, world["alice"], view, ProposalUpdate(**COMPLETE))
    with pytest.raises(Invalid) as caught:
        service.submit_proposal(db, world["alice"], view, accept_terms=False)
    assert "accept_terms" in caught.value.errors
    assert db.exec(select(ProposalVersion)).all() == []


def test_submitting_records_terms_receipt_and_hash_and_emails_the_team(db, world):
    view = service.update_proposal(db, world["alice"], _draft(db, world), ProposalUpdate(**COMPLETE))
    version = service.submit_proposal(db, world["bob"], view, accept_terms=True)
    assert version.number == 1 and version.terms_version == 1 and version.accepted_by_name == "Bob"
    assert version.sha256 == records.content_sha256(version.content) and len(version.sha256) == 64
    assert version.receipt_number.startswith(f"MDN-{world['challenge'].id}-")
    terms = db.exec(select(ChallengeTerms).where(ChallengeTerms.challenge_id == world["challenge"].id)).one()
    assert terms.frozen_at is not None
    assert db.get(Proposal, view.proposal.id).status == "submitted"
    mails = db.exec(select(OutboxMessage).where(OutboxMessage.subject.contains(version.receipt_number))).all()
    assert len(mails) == 2 and all(f"\nSHA-256: {version.sha256}\n" in m.body for m in mails)


def test_edits_after_submission_make_a_new_version_and_sponsors_see_the_last(db, world):
    view = service.update_proposal(db, world["alice"], _draft(db, world), ProposalUpdate(**COMPLETE))
    service.submit_proposal(db, world["alice"], view, accept_terms=True)
    view = records.get_proposal(db, world["alice"], view.proposal.id)
    view = service.update_proposal(db, world["alice"], view, ProposalUpdate(summary="Second thoughts."))
    assert view.has_unsubmitted_changes and view.status == "submitted"
    service.submit_proposal(db, world["alice"], view, accept_terms=True)
    view = records.get_proposal(db, world["alice"], view.proposal.id)
    service.update_proposal(db, world["alice"], view, ProposalUpdate(summary="Never submitted."))
    _close(db, world)
    seen = records.get_proposal(db, world["sponsor"], view.proposal.id)
    assert [v.number for v in seen.versions] == [1, 2]
    assert seen.content["summary"] == "Second thoughts."


def test_after_the_deadline_the_proposal_is_read_only_and_late_submission_is_refused(db, world):
    view = service.update_proposal(db, world["alice"], _draft(db, world), ProposalUpdate(**COMPLETE))
    _close(db, world)
    view = records.get_proposal(db, world["alice"], view.proposal.id)
    with pytest.raises(Conflict) as caught:
        service.submit_proposal(db, world["alice"], view, accept_terms=True)
    assert "deadline" in caught.value.variables
    with pytest.raises(Conflict):
        service.update_proposal(db, world["alice"], view, ProposalUpdate(summary="Late"))
    assert db.get(Proposal, view.proposal.id).status == "draft"
    assert db.exec(select(ProposalVersion)).all() == []
    # a draft was never submitted: the sponsors may not know it exists
    with pytest.raises(NotFound):
        records.get_proposal(db, world["sponsor"], view.proposal.id)


def test_the_server_clock_decides_a_submission_racing_the_deadline(db, world):
    view = service.update_proposal(db, world["alice"], _draft(db, world), ProposalUpdate(**COMPLETE))
    deadline = world["challenge"].deadline
    with pytest.raises(Conflict):
        service.submit_proposal(db, world["alice"], view, accept_terms=True, now=deadline)
    version = service.submit_proposal(
        db, world["alice"], view, accept_terms=True, now=deadline - timedelta(microseconds=1)
    )
    assert version.submitted_at < deadline


def test_withdrawal_before_the_deadline_hides_the_proposal_from_sponsors(db, world):
    view = service.update_proposal(db, world["alice"], _draft(db, world), ProposalUpdate(**COMPLETE))
    service.submit_proposal(db, world["alice"], view, accept_terms=True)
    view = service.withdraw_proposal(db, world["alice"], records.get_proposal(db, world["alice"], view.proposal.id))
    assert view.status == "withdrawn"
    _close(db, world)
    with pytest.raises(NotFound):
        records.get_proposal(db, world["sponsor"], view.proposal.id)


def test_staff_see_counts_before_the_deadline_and_proposals_after(db, world):
    from app.challenges import service as challenges

    view = service.update_proposal(db, world["alice"], _draft(db, world), ProposalUpdate(**COMPLETE))
    service.submit_proposal(db, world["alice"], view, accept_terms=True)
    service.create_proposal(db, world["other"], ProposalCreate(challenge=world["challenge"].id, title="Draft"))
    challenge = challenges.get_challenge(db, world["sponsor"], world["challenge"].id)
    before = queries.challenge_proposals(db, world["sponsor"], challenge)
    assert before.counts == {"submitted": 1, "draft": 1} and before.proposals == [] and not before.reviewable
    with pytest.raises(NotFound):
        queries.challenge_proposals(db, world["other"], challenge)
    _close(db, world)
    after = queries.challenge_proposals(db, world["operator"], challenge)
    assert [v.startup.name for v in after.proposals] == ["LeakSense SARL"]


def test_eligibility_is_recorded_with_who_and_when(db, world):
    view = service.update_proposal(db, world["alice"], _draft(db, world), ProposalUpdate(**COMPLETE))
    service.submit_proposal(db, world["alice"], view, accept_terms=True)
    _close(db, world)
    seen = records.get_proposal(db, world["sponsor"], view.proposal.id)
    with pytest.raises(Invalid):
        service.decide_eligibility(db, world["sponsor"], seen, EligibilityDecision(eligible=False))
    service.decide_eligibility(
        db, world["sponsor"], seen, EligibilityDecision(eligible=False, reason="Not registered in Morocco.")
    )
    proposal = db.get(Proposal, view.proposal.id)
    assert proposal.status == "ineligible" and proposal.eligibility_by_id == world["sponsor"].user_id
    assert proposal.eligibility_at is not None
    with pytest.raises(Forbidden):
        mine = records.get_proposal(db, world["alice"], view.proposal.id)
        service.decide_eligibility(db, world["alice"], mine, EligibilityDecision(eligible=True))


def test_extra_questions_are_checked_and_required_to_submit(db, world):
    from app.challenges import service as challenges

    challenge = challenges.get_challenge(db, world["sponsor"], world["challenge"].id)
    choice = questions.add_question(
        db,
        world["sponsor"],
        challenge,
        QuestionCreate(kind="single_choice", label="Where are you based?", choices=["Casablanca", "Rabat"],
                       required=True),
    )  # fmt: skip
    deck = questions.add_question(
        db, world["sponsor"], challenge, QuestionCreate(kind="file", label="Pitch deck", required=True)
    )
    view = service.update_proposal(db, world["alice"], _draft(db, world), ProposalUpdate(**COMPLETE))
    with pytest.raises(Invalid) as caught:
        service.update_proposal(db, world["alice"], view, ProposalUpdate(answers={str(choice.id): "Paris"}))
    assert f"answers.{choice.id}" in caught.value.errors
    with pytest.raises(Invalid) as caught:
        service.submit_proposal(db, world["alice"], view, accept_terms=True)
    assert {f"answers.{choice.id}", f"answers.{deck.id}"} <= set(caught.value.errors)
    view = service.update_proposal(db, world["alice"], view, ProposalUpdate(answers={str(choice.id): "Rabat"}))
    attachments.store_attachment_bytes(
        db, world["alice"], view.proposal.id, "deck.pdf", b"%PDF-1.4 deck", question_id=deck.id
    )
    version = service.submit_proposal(
        db, world["alice"], records.get_proposal(db, world["alice"], view.proposal.id), accept_terms=True
    )
    assert version.content["answers"] == {str(choice.id): "Rabat"}
    assert [a["question"] for a in version.content["attachments"]] == [deck.id]
    with pytest.raises(Conflict):
        questions.add_question(db, world["sponsor"], challenge, QuestionCreate(kind="number", label="Team size?"))


def in_english(function, *args):
    def run():
        i18n.set_language("en")
        return function(*args)

    return contextvars.copy_context().run(run)  # the test's own language stays as it was


def test_exports_are_safe_and_hold_the_last_version(db, world):
    from app.challenges import service as challenges

    view = service.update_proposal(
        db, world["alice"], _draft(db, world), ProposalUpdate(**{**COMPLETE, "title": '=HYPERLINK("x")'})
    )
    attachments.store_attachment_bytes(db, world["alice"], view.proposal.id, "deck.pdf", b"%PDF-1.4 deck")
    view = records.get_proposal(db, world["alice"], view.proposal.id)
    service.submit_proposal(db, world["alice"], view, accept_terms=True)
    challenge = challenges.get_challenge(db, world["sponsor"], world["challenge"].id)
    with pytest.raises(Forbidden):
        exports.export_csv(db, world["sponsor"], challenge)
    _close(db, world)
    rows = list(csv.DictReader(io.StringIO(in_english(exports.export_csv, db, world["sponsor"], challenge)[1:])))
    assert len(rows) == 1 and rows[0]["Title"] == '\'=HYPERLINK("x")' and rows[0]["Startup"] == "LeakSense SARL"
    path = exports.export_zip(db, world["sponsor"], challenge)
    try:
        with zipfile.ZipFile(path) as archive:
            assert [n.split("/")[-1] for n in archive.namelist()] == ["deck.pdf"]
            assert archive.read(archive.namelist()[0]) == b"%PDF-1.4 deck"
    finally:
        path.unlink()


def test_attachments_are_confidential(db, world):
    view = _draft(db, world)
    attachment = attachments.store_attachment_bytes(db, world["alice"], view.proposal.id, "deck.pdf", b"%PDF-1.4 deck")
    assert attachments.get_attachment(db, world["bob"], view.proposal.id, attachment.id).sha256 == attachment.sha256
    with pytest.raises(NotFound):
        attachments.get_attachment(db, world["other"], view.proposal.id, attachment.id)


def test_applicants_only_datasets_open_to_startups_that_submitted(db, world):
    from app.datasets import service as datasets
    from app.datasets.models import Dataset

    dataset = Dataset(
        challenge_id=world["challenge"].id,
        owner_id=world["challenge"].lead_sponsor_id,
        title="Pressure",
        licence="CC-BY-4.0",
        access="applicants",
    )
    db.add(dataset)
    db.flush()
    view = service.update_proposal(db, world["alice"], _draft(db, world), ProposalUpdate(**COMPLETE))
    with pytest.raises(NotFound):
        datasets.get_dataset(db, world["bob"], dataset.id)
    service.submit_proposal(db, world["alice"], view, accept_terms=True)
    assert datasets.get_dataset(db, world["bob"], dataset.id).dataset.title == "Pressure"
    with pytest.raises(NotFound):
        datasets.get_dataset(db, world["other"], dataset.id)


def test_a_stale_save_that_changes_nothing_is_no_conflict(db, world):
    view = _draft(db, world)
    loaded = view.proposal.revision
    service.update_proposal(db, world["alice"], view, ProposalUpdate(summary="Same"), expected_revision=loaded)
    again = records.get_proposal(db, world["alice"], view.proposal.id)
    service.update_proposal(db, world["alice"], again, ProposalUpdate(summary="Same"), expected_revision=loaded)
    assert db.get(Proposal, view.proposal.id).summary == "Same"


def test_staff_cannot_bring_the_deadline_forward_to_read_proposals_early(db, world):
    from app.challenges import service as challenges
    from app.challenges.schemas import ChallengeUpdate

    view = service.update_proposal(db, world["alice"], _draft(db, world), ProposalUpdate(**COMPLETE))
    service.submit_proposal(db, world["alice"], view, accept_terms=True)
    challenge = challenges.get_challenge(db, world["sponsor"], world["challenge"].id)
    soon = utcnow() + timedelta(seconds=1)
    with pytest.raises(Invalid) as caught:
        challenges.update_challenge(db, world["sponsor"], challenge, ChallengeUpdate(deadline=soon))
    assert "later" in caught.value.errors["deadline"]
    later = world["challenge"].deadline + timedelta(days=7)
    challenges.update_challenge(db, world["sponsor"], challenge, ChallengeUpdate(deadline=later))
    _close(db, world)
    closed = challenges.get_challenge(db, world["sponsor"], world["challenge"].id)
    with pytest.raises(Invalid):
        challenges.update_challenge(db, world["sponsor"], closed, ChallengeUpdate(deadline=later))


def test_terms_changed_since_the_user_read_them_are_read_again(db, world):
    view = service.update_proposal(db, world["alice"], _draft(db, world), ProposalUpdate(**COMPLETE))
    with pytest.raises(Conflict) as caught:
        service.submit_proposal(db, world["alice"], view, accept_terms=True, terms_version=0)
    assert caught.value.variables == {"v": 1}
    assert db.exec(select(ProposalVersion)).all() == []
    assert service.submit_proposal(db, world["alice"], view, accept_terms=True, terms_version=1).terms_version == 1


@pytest.mark.parametrize("answer", ["nan", "inf", "1e999", ["a"]])
def test_number_and_text_answers_refuse_what_is_not_one(db, world, answer):
    from app.challenges import service as challenges

    challenge = challenges.get_challenge(db, world["sponsor"], world["challenge"].id)
    number = questions.add_question(db, world["sponsor"], challenge, QuestionCreate(kind="number", label="How many?"))
    text = questions.add_question(db, world["sponsor"], challenge, QuestionCreate(kind="short_text", label="Where?"))
    view = _draft(db, world)
    key = str(text.id) if isinstance(answer, list) else str(number.id)
    with pytest.raises(Invalid):
        service.update_proposal(db, world["alice"], view, ProposalUpdate(answers={key: answer}))


def test_answers_are_patched_one_question_at_a_time(db, world):
    from app.challenges import service as challenges

    challenge = challenges.get_challenge(db, world["sponsor"], world["challenge"].id)
    first = questions.add_question(db, world["sponsor"], challenge, QuestionCreate(kind="short_text", label="Where?"))
    second = questions.add_question(db, world["sponsor"], challenge, QuestionCreate(kind="number", label="How many?"))
    view = service.update_proposal(
        db, world["alice"], _draft(db, world), ProposalUpdate(answers={str(first.id): "Rabat"})
    )
    view = service.update_proposal(db, world["alice"], view, ProposalUpdate(answers={str(second.id): "7"}))
    assert view.proposal.answers == {str(first.id): "Rabat", str(second.id): 7}
    view = service.update_proposal(db, world["alice"], view, ProposalUpdate(answers={str(first.id): None}))
    assert view.proposal.answers == {str(second.id): 7}
