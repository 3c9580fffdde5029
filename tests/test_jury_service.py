"""The jury's rules that no face shows directly: the round's status by the server clock and the job that records
the closing, a declared conflict removing even a started review and refilling, the automatic assignment keeping
started reviews, entries left out, and the history of a review edited after its submission."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.accounts.models import FormerMembership, Organisation
from app.challenges import service as challenges
from app.db import utcnow
from app.errors import Conflict
from app.jury import assignments, jurors, records, reviews, service
from app.jury.models import JuryAssignment, JuryReview, JuryRound
from app.jury.schemas import ConflictIn, EntriesIn, JurorIn, ReviewIn, RoundCreate
from app.proposals import records as proposal_records
from app.proposals import service as proposals
from app.proposals.schemas import EligibilityDecision


@pytest.fixture
def jury(db: Session, make):
    """An open round of two reviews per proposal judging three eligible proposals, with three jurors."""
    lydec = make.organisation("partner", name="Lydec")
    challenge = make.published_challenge(lydec)
    staff_user = make.user(organisation=lydec, role="admin")
    staff = make.actor(staff_user)
    startups = [make.organisation("startup") for _ in range(3)]
    founders = [make.user(organisation=s, role="admin") for s in startups]
    drafts = [make.proposal(f, challenge, submitted=True, title=f"Proposal {i}") for i, f in enumerate(founders)]
    challenge.deadline = utcnow() - timedelta(hours=1)
    db.add(challenge)
    db.flush()
    for p in drafts:
        proposals.decide_eligibility(
            db, staff, proposal_records.get_proposal(db, staff, p.id), EligibilityDecision(eligible=True)
        )
    now = utcnow()
    view = service.create_round(
        db,
        staff,
        challenges.get_challenge(db, staff, challenge.id),
        RoundCreate(
            name="Written",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=5),
            reviews_per_proposal=2,
            preset="datacity",
        ),
    )
    service.add_entries(db, staff, view, EntriesIn(proposals=[p.id for p in drafts]))
    people = [make.user(organisation=make.organisation("partner")) for _ in range(3)]
    for person in people:
        jurors.add_juror(db, staff, view, JurorIn(user=person.id))
    view = service.open_round(db, staff, view)
    report = assignments.assign(db, staff, view)
    assert (report.assigned, report.min_load, report.max_load, report.unfilled) == (6, 2, 2, [])
    return {"staff": staff, "round": view, "people": people, "startups": startups, "proposals": drafts}


def _mine(db, make, jury, person) -> list[records.AssignmentView]:
    actor = make.actor(person)
    return assignments.list_assignments(db, actor, records.get_round(db, actor, jury["round"].id))


def _submit(db, make, task, score: float, person) -> reviews.SavedReview:
    data = ReviewIn(scores={str(c.id): score for c in task.round.criteria}, submit=True)
    return reviews.save_review(db, make.actor(person), task, data)


def test_a_round_past_its_closing_time_is_closed_by_the_clock_and_the_job_records_it(db: Session, make, jury) -> None:
    person = jury["people"][0]
    task = _mine(db, make, jury, person)[0]
    round_ = db.get(JuryRound, jury["round"].id)
    round_.closes_at = utcnow() - timedelta(minutes=1)
    db.add(round_)
    db.flush()
    task = records.get_assignment(db, make.actor(person), task.id)
    assert task.round.status == "closed" and round_.status == "open"  # the clock decides before the job runs
    with pytest.raises(Conflict):
        _submit(db, make, task, 4, person)
    service.close_due_rounds(db)
    assert db.get(JuryRound, round_.id).status == "closed" and round_.closed_at is not None


def test_a_declared_conflict_removes_even_a_started_review_and_refills_the_entry(db: Session, make, jury) -> None:
    person = jury["people"][0]
    task = _mine(db, make, jury, person)[0]
    review_id = _submit(db, make, task, 3, person).review.id
    startup_id = task.proposal.proposal.startup_id
    actor = make.actor(person)
    jurors.declare_conflict(
        db, actor, records.get_round(db, actor, jury["round"].id), ConflictIn(startup=startup_id, reason="Adviser.")
    )
    assert db.exec(select(JuryReview).where(JuryReview.id == review_id)).first() is None  # it must not count
    entry_jurors = db.exec(select(JuryAssignment.juror_id).where(JuryAssignment.entry_id == task.entry.id)).all()
    assert len(entry_jurors) == 2 and task.juror.id not in entry_jurors  # refilled by another juror
    assert all(a.proposal.proposal.startup_id != startup_id for a in _mine(db, make, jury, person))


def test_a_member_of_the_staff_conflicted_with_a_startup_reads_no_one_s_conflict_with_it(
    db: Session, make, jury
) -> None:
    person = jury["people"][0]
    startup = jury["startups"][0]
    actor = make.actor(person)
    jurors.declare_conflict(
        db, actor, records.get_round(db, actor, jury["round"].id), ConflictIn(startup=startup.id, reason="My cousin.")
    )
    lydec = db.get(Organisation, jury["round"].challenge.challenge.lead_sponsor_id)
    former = make.actor(make.user(organisation=lydec))  # staff of the sponsor, and once a member of the startup
    db.add(FormerMembership(user_id=former.user_id, organisation_id=startup.id))
    db.flush()
    for reader, sees in ((jury["staff"], True), (former, False)):
        view = records.get_round(db, reader, jury["round"].id)
        shown = [(c.startup.id, c.conflict.reason) for c in jurors.list_conflicts(db, reader, view)]
        assert ((startup.id, "My cousin.") in shown) is sees


def test_running_the_assignment_again_keeps_the_reviews_already_started(db: Session, make, jury) -> None:
    started = {}
    for person in jury["people"]:
        task = _mine(db, make, jury, person)[0]
        reviews.save_review(db, make.actor(person), task, ReviewIn(comment="Reading it."))
        started[task.id] = task.review
    report = assignments.assign(db, jury["staff"], records.get_round(db, jury["staff"], jury["round"].id))
    assert report.assigned == 6 and report.max_load - report.min_load <= 1
    kept = set(db.exec(select(JuryAssignment.id)).all())
    assert set(started) <= kept


def test_an_entry_left_out_loses_its_pending_assignments_and_gains_none(db: Session, make, jury) -> None:
    staff, view = jury["staff"], jury["round"]
    entry = records.get_assignment(db, staff, _mine(db, make, jury, jury["people"][0])[0].id).entry
    service.exclude_entry(db, staff, view, entry.id, "Outside the challenge's area.")
    assert db.exec(select(JuryAssignment).where(JuryAssignment.entry_id == entry.id)).all() == []
    report = assignments.assign(db, staff, records.get_round(db, staff, view.id))
    assert report.assigned == 4 and all(u.entry.id != entry.id for u in report.unfilled)


def test_a_review_edited_after_its_submission_keeps_each_submitted_version(db: Session, make, jury) -> None:
    person = jury["people"][1]
    task = _mine(db, make, jury, person)[0]
    _submit(db, make, task, 2, person)
    task = records.get_assignment(db, make.actor(person), task.id)
    refused = _submit(db, make, task, 9, person)  # out of the scale: refused, the submitted review unchanged
    assert refused.problems is not None and refused.review.status == "submitted"
    task = records.get_assignment(db, make.actor(person), task.id)
    _submit(db, make, task, 4.0, person)
    versions = reviews.history(db, records.get_assignment(db, make.actor(person), task.id))
    assert [(v.number, set(v.scores.values())) for v in versions] == [(1, {2.0}), (2, {4.0})]


def test_free_texts_drop_nul_characters_which_postgresql_text_refuses() -> None:
    from app.jury.schemas import ConflictIn, ReviewIn

    review = ReviewIn(comment="Bon\x00 dossier", note="\x00privé", comments={"1": "a\x00b"}, reason="r\x00")
    assert (review.comment, review.note, review.comments, review.reason) == ("Bon dossier", "privé", {"1": "ab"}, "r")
    assert ConflictIn(reason="Ancien\x00 associé", startup=1).reason == "Ancien associé"


def test_blind_text_hides_a_startup_s_brand_alone_and_names_as_whole_words_only() -> None:
    names = [*records.organisation_names("LeakSense SARL"), *records.organisation_names("Wayz Mobility (demo startup)")]
    names += ["Ana Lumen", "Ana", "Lumen"]
    text = "LeakSense's sensors beat Wayz; ana wrote it, not a banana seller from Lumenville. WAYZ MOBILITY agrees."
    hidden = records.hide_names(text, names)
    assert "LeakSense" not in hidden and "Wayz" not in hidden and "WAYZ" not in hidden and "ana wrote" not in hidden
    assert "banana" in hidden and "Lumenville" in hidden  # a name inside a longer word is not that name
    assert records.organisation_names("Wayz Mobility (demo startup)") == [
        "Wayz Mobility (demo startup)",
        "Wayz Mobility",
        "Wayz",
    ]
