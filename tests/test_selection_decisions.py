"""The selection's decisions, publication and projects: two people per decision, one pending proposal per entry
by the table's unique index, the proposal's status changed by the confirmation only, the evidence's hash
reproducible from the reviews, the publication's emails (each member's language, the jurors' comments, never
their names or private notes), the public list of selected startups only after publication, the promotion
from the waiting list, the project opened once; and the decisions page and API on the same services."""

import hashlib
import json
from contextlib import contextmanager
from datetime import UTC, date, timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select

from app import i18n
from app.challenges import service as challenges
from app.db import utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.jury import assignments, jurors, records, reviews, service
from app.jury.models import JuryAssignment, JuryReview, JuryRound
from app.jury.schemas import EntriesIn, JurorIn, ReviewIn, RoundCreate
from app.notifications.models import OutboxMessage
from app.programmes.models import ProgrammePhase
from app.projects import records as project_records
from app.projects import service as projects
from app.projects.models import Project
from app.proposals import records as proposal_records
from app.proposals import service as proposals
from app.proposals.models import Proposal
from app.proposals.schemas import EligibilityDecision
from app.selection import decisions, evidence, publication
from app.selection import permissions as can
from app.selection.models import SelectionDecision
from app.selection.schemas import DecisionIn, ShortlistIn
from tests.conftest import post_form, sign_in

SCORES = (5, 3, 1)  # every criterion, by proposal: the first ranks first


@pytest.fixture
def world(db: Session, make):
    """Lydec's challenge (co-sponsored by Redal) past its deadline; three startups' proposals entered in a round
    of two reviews each, scored by three jurors (with comments for the startup, comments per criterion and
    private notes), then closed. Lydec's Salma and Sami and the operator's Omar are its staff; the operator's
    Olga shares Atlas's email domain (conflicted with it). Atlas's founder reads French, its CTO Arabic."""
    operator = make.organisation("operator", name="Casa Innovation")
    lydec = make.organisation("partner", name="Lydec")
    redal = make.organisation("partner", name="Redal")
    programme = make.programme(operator, partners=[lydec, redal], slug="casa-decisions")
    challenge = make.published_challenge(
        lydec, programme=programme, co_sponsors=[redal], slug="leaks-decisions", title="Water leaks"
    )
    names = ("Atlas Water", "Blue Pipes", "Cedar Flow")
    startups = [make.organisation("startup", slug=n.lower().replace(" ", "-"), name=n) for n in names]
    founders = [
        make.user(f"founder@{s.slug}.test", organisation=s, role="admin", name=f"Founder {s.name}") for s in startups
    ]
    founders[0].preferred_language = "fr"
    cto = make.user("cto@atlas-water.test", organisation=startups[0], name="Atlas CTO")
    cto.preferred_language = "ar"
    db.add_all([founders[0], cto])
    titles = ("Acoustic leak sensors", "Pipe relining robots", "Smart valves")
    drafts = [make.proposal(f, challenge, submitted=True, title=t) for f, t in zip(founders, titles, strict=True)]
    challenge.deadline = utcnow() - timedelta(hours=1)
    db.add(challenge)
    db.flush()
    people = {
        "salma": make.user("salma@lydec.test", organisation=lydec, role="admin", name="Salma Bennani"),
        "sami": make.user("sami@lydec.test", organisation=lydec, name="Sami Alaoui"),
        "omar": make.user("omar@casa-innovation.test", organisation=operator, name="Omar Idrissi"),
        "olga": make.user("olga@atlas-water.test", organisation=operator, name="Olga Tazi"),
        "pierre": make.user("pierre@other.test", organisation=make.organisation("partner"), name="Pierre Martin"),
    }
    for who in ("salma", "sami", "omar"):  # the pages below are read in English
        people[who].preferred_language = "en"
    founders[1].preferred_language = "en"
    salma = make.actor(people["salma"])
    for p in drafts:
        proposals.decide_eligibility(
            db, salma, proposal_records.get_proposal(db, salma, p.id), EligibilityDecision(eligible=True)
        )
    now = utcnow()
    view = service.create_round(
        db,
        salma,
        challenges.get_challenge(db, salma, challenge.id),
        RoundCreate(name="Final", opens_at=now - timedelta(days=2), closes_at=now + timedelta(days=5),
                    reviews_per_proposal=2, preset="datacity"),
    )  # fmt: skip
    service.add_entries(db, salma, view, EntriesIn(proposals=[p.id for p in drafts]))
    judges = [make.user(f"judge{i}@jury.test", name=f"Judge Zorro{i}") for i in range(3)]
    for judge in judges:
        jurors.add_juror(db, salma, view, JurorIn(user=judge.id))
    view = service.open_round(db, salma, view)
    assignments.assign(db, salma, view)
    score_of = {p.id: s for p, s in zip(drafts, SCORES, strict=True)}
    for judge in judges:
        actor = make.actor(judge)
        for task in assignments.list_assignments(db, actor, records.get_round(db, actor, view.id)):
            pid = task.proposal.proposal.id
            first = str(task.round.criteria[0].id)
            data = ReviewIn(
                scores={str(c.id): score_of[pid] for c in task.round.criteria},
                comments={first: "The team is strong."},
                comment=f"Advice for proposal {pid}.",
                note="PRIVATE NOTE for the jury",
                submit=True,
            )
            assert reviews.save_review(db, actor, task, data).problems is None
    view = service.close_round(db, salma, records.get_managed_round(db, salma, view.id))
    return {
        "challenge": challenge,
        "programme": programme,
        "round_id": view.id,
        "proposals": drafts,
        "startups": startups,
        "founders": founders,
        "cto": cto,
        "judges": judges,
        **people,
    }


def actor(make, world, who):
    return make.actor(world[who])


def propose(db, make, world, who, proposal, kind, rationale="Because.") -> SelectionDecision:
    data = DecisionIn(proposal=proposal.id, decision=kind, rationale=rationale)
    return decisions.propose(db, actor(make, world, who), world["round_id"], data)


def decide(db, make, world, proposal, kind) -> SelectionDecision:
    """Proposed by Salma, confirmed by Omar."""
    proposed = propose(db, make, world, "salma", proposal, kind)
    return decisions.confirm(db, actor(make, world, "omar"), proposed.id)


# ---- the rules on their own --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "promotion", "expected"),
    [("open", False, False), ("closed", False, True), ("decided", False, False), ("decided", True, True)],
)
def test_who_proposes_when(status, promotion, expected) -> None:
    now = utcnow()
    round_ = JuryRound(challenge_id=1, position=1, name="R", status=status, opens_at=now - timedelta(days=2),
                       closes_at=now - timedelta(days=1) if status != "open" else now + timedelta(days=1))  # fmt: skip
    assert can.can_propose(round_, staff=True, now=now, promotion=promotion) is expected
    assert can.can_propose(round_, staff=False, now=now, promotion=promotion) is False
    assert can.can_publish(round_, staff=True, now=now) is (status == "closed")
    assert can.can_publish(round_, staff=True, now=now, conflicted=True) is False


def test_two_people_and_who_withdraws() -> None:
    assert can.can_confirm(staff=True, actor_user_id=1, proposed_by_id=2)
    assert not can.can_confirm(staff=True, actor_user_id=1, proposed_by_id=1)
    assert not can.can_confirm(staff=False, actor_user_id=1, proposed_by_id=2)
    assert can.can_confirm(staff=True, actor_user_id=1, proposed_by_id=None)  # the proposer's account is gone
    assert can.can_withdraw(staff=True, actor_user_id=1, proposed_by_id=2)
    assert can.can_withdraw(staff=False, actor_user_id=1, proposed_by_id=1)
    assert not can.can_withdraw(staff=False, actor_user_id=1, proposed_by_id=2)


# ---- two people ------------------------------------------------------------------------------------------


def test_the_proposer_may_not_confirm_and_another_member_of_the_staff_puts_it_in_force(db, make, world) -> None:
    first = world["proposals"][0]
    proposed = propose(db, make, world, "salma", first, "selected")
    assert (proposed.status, db.get(Proposal, first.id).status) == ("proposed", "eligible")
    with pytest.raises(Forbidden):
        decisions.confirm(db, actor(make, world, "salma"), proposed.id)
    assert db.get(Proposal, first.id).status == "eligible"  # only a confirmation changes it
    confirmed = decisions.confirm(db, actor(make, world, "omar"), proposed.id)
    assert (confirmed.status, confirmed.confirmed_by_id) == ("confirmed", world["omar"].id)
    assert db.get(Proposal, first.id).status == "selected"
    with pytest.raises(Conflict):  # once in force, it is no longer to be confirmed
        decisions.confirm(db, actor(make, world, "sami"), proposed.id)


def test_of_two_proposals_at_once_the_second_is_refused_by_the_unique_index(db, make, world) -> None:
    first = world["proposals"][0]
    propose(db, make, world, "salma", first, "selected")
    # the service checks nothing before inserting: the partial unique index refuses the second, whoever and
    # however close in time, and the transaction goes on
    with pytest.raises(Conflict, match="already proposed"):
        propose(db, make, world, "sami", first, "rejected")
    pending = db.exec(select(SelectionDecision).where(SelectionDecision.proposal_id == first.id)).all()
    assert [(d.decision, d.status) for d in pending] == [("selected", "proposed")]
    assert propose(db, make, world, "sami", world["proposals"][1], "rejected").status == "proposed"


def test_the_startup_reads_its_status_as_it_was_last_told(client, db, make, world) -> None:
    first, second, third = world["proposals"]
    founder = make.actor(world["founders"][1])
    decide(db, make, world, first, "selected")
    decide(db, make, world, second, "waitlisted")
    decide(db, make, world, third, "rejected")

    def shown() -> tuple[str, str]:
        as_startup = proposal_records.get_proposal(db, founder, second.id).status
        return as_startup, proposal_records.get_proposal(db, actor(make, world, "sami"), second.id).status

    assert shown() == ("eligible", "waitlisted")  # confirmed, not yet sent
    _, token = make.token(world["founders"][1])
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/proposals", params={"status": "waitlisted"}, headers=headers).json()["items"]
    assert listed == []  # nor learnt from a filter
    listed = client.get("/api/v1/proposals", params={"status": "eligible"}, headers=headers).json()["items"]
    assert [(p["id"], p["status"]) for p in listed] == [(second.id, "eligible")]
    publication.publish(db, actor(make, world, "sami"), world["round_id"])
    assert shown() == ("waitlisted", "waitlisted")
    promoted = propose(db, make, world, "salma", second, "selected")
    assert shown() == ("waitlisted", "waitlisted")
    decisions.confirm(db, actor(make, world, "omar"), promoted.id)  # sent at once after publication
    assert shown() == ("selected", "selected")


def test_a_withdrawn_proposal_leaves_room_for_another_and_changes_nothing(db, make, world) -> None:
    first = world["proposals"][0]
    proposed = propose(db, make, world, "salma", first, "rejected")
    withdrawn = decisions.withdraw(db, actor(make, world, "sami"), proposed.id)  # any member of the staff
    assert withdrawn.status == "withdrawn" and withdrawn.ended_at is not None
    assert db.get(Proposal, first.id).status == "eligible"
    with pytest.raises(Conflict):
        decisions.confirm(db, actor(make, world, "omar"), proposed.id)
    assert propose(db, make, world, "sami", first, "selected").status == "proposed"


def test_a_later_confirmed_decision_supersedes_the_one_in_force(db, make, world) -> None:
    first = world["proposals"][0]
    before = decide(db, make, world, first, "rejected")
    after = decide(db, make, world, first, "waitlisted")
    db.refresh(before)
    assert (before.status, after.status, after.replaces_id) == ("superseded", "confirmed", before.id)
    assert db.get(Proposal, first.id).status == "waitlisted"
    with pytest.raises(Conflict, match="already in force"):
        propose(db, make, world, "salma", first, "waitlisted")


def test_no_decision_before_the_round_is_closed(db, make, world) -> None:
    round_ = db.get(JuryRound, world["round_id"])
    round_.status = "open"
    round_.closes_at = utcnow() + timedelta(days=1)
    db.add(round_)
    db.flush()
    with pytest.raises(Conflict, match="once the round is closed"):
        propose(db, make, world, "salma", world["proposals"][0], "selected")


def test_bad_input_and_outsiders(db, make, world) -> None:
    elsewhere = make.published_challenge(make.organisation("partner"))
    other = make.proposal(world["founders"][1], elsewhere, title="Not entered")
    with pytest.raises(Invalid) as refused:
        propose(db, make, world, "salma", other, "selected")
    assert set(refused.value.errors) == {"proposal"}
    with pytest.raises(NotFound):
        propose(db, make, world, "pierre", world["proposals"][0], "selected")
    proposed = propose(db, make, world, "salma", world["proposals"][0], "selected")
    with pytest.raises(NotFound):
        decisions.confirm(db, actor(make, world, "pierre"), proposed.id)
    with pytest.raises(NotFound):
        decisions.withdraw(db, make.actor(world["founders"][0]), proposed.id)


def test_a_member_of_the_staff_conflicted_with_a_startup_learns_nothing_of_its_entry(db, make, world) -> None:
    atlas, blue = world["proposals"][0], world["proposals"][1]
    olga = actor(make, world, "olga")
    board = decisions.board(db, olga, world["round_id"])
    assert [row.proposal.id for row in board.rows] == [blue.id, world["proposals"][2].id]
    with pytest.raises(NotFound):  # as on the jury's pages
        propose(db, make, world, "olga", atlas, "selected")
    proposed = propose(db, make, world, "salma", atlas, "selected")
    for act in (decisions.confirm, decisions.withdraw, decisions.get_decision):
        with pytest.raises(NotFound):
            act(db, olga, proposed.id)
    assert all(d.proposal_id != atlas.id for d in decisions.list_decisions(db, olga, world["round_id"]))
    decisions.confirm(db, actor(make, world, "omar"), proposed.id)
    for p in world["proposals"][1:]:
        decide(db, make, world, p, "rejected")
    with pytest.raises(Conflict, match="conflict of interest"):
        publication.publish(db, olga, world["round_id"])


# ---- shortlist and sponsors ------------------------------------------------------------------------------


def test_shortlisting_the_top_proposes_for_the_first_ranked_without_a_decision(db, make, world) -> None:
    first, second, third = world["proposals"]
    decide(db, make, world, first, "selected")
    i18n.set_language("fr")  # the default rationale is written in the language of whoever shortlists
    made = decisions.shortlist_top(db, actor(make, world, "sami"), world["round_id"], ShortlistIn(top=2))
    assert [(d.proposal_id, d.decision, d.status) for d in made] == [(second.id, "shortlisted", "proposed")]
    assert made[0].rationale == "Parmi les 2 premières du classement."
    again = decisions.shortlist_top(db, actor(make, world, "sami"), world["round_id"], ShortlistIn(top=3))
    assert [d.proposal_id for d in again] == [third.id]
    assert db.get(Proposal, second.id).status == "eligible"
    board = decisions.board(db, actor(make, world, "sami"), world["round_id"])
    assert board.shortlistable == 0  # each ranked proposal has a decision, in force or proposed: no form


def test_each_sponsor_is_warned_without_one_selected_startup(db, make, world) -> None:
    salma = actor(make, world, "salma")
    warned = decisions.board(db, salma, world["round_id"]).warnings
    assert [(w.sponsor.name, w.selected) for w in warned] == [("Lydec", 0), ("Redal", 0)]
    propose(db, make, world, "salma", world["proposals"][0], "selected")  # a proposal counts
    assert decisions.board(db, salma, world["round_id"]).warnings == []
    decide(db, make, world, world["proposals"][1], "selected")
    warned = decisions.board(db, salma, world["round_id"]).warnings
    assert [(w.sponsor.name, w.selected) for w in warned] == [("Lydec", 2), ("Redal", 2)]


@contextmanager
def _counting(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_decisions_page_costs_the_same_queries_however_many_entries_are_decided(db, make, world) -> None:
    first, second, third = world["proposals"]
    decide(db, make, world, first, "selected")
    propose(db, make, world, "salma", second, "rejected")
    sami = actor(make, world, "sami")
    db.expunge_all()
    with _counting(db.get_bind()) as few:
        board = decisions.board(db, sami, world["round_id"])
    assert [r.current is not None for r in board.rows] == [True, False, False]
    decisions.confirm(db, actor(make, world, "omar"), board.rows[1].pending.id)
    decide(db, make, world, third, "selected")
    db.expunge_all()
    with _counting(db.get_bind()) as many:
        board = decisions.board(db, sami, world["round_id"])
    assert all(r.current is not None and r.evidence.matches for r in board.rows)
    assert len(many) == len(few), "\n".join(many)


# ---- evidence ----------------------------------------------------------------------------------------------


def test_the_confirmation_records_the_ranking_row_and_a_hash_reproducible_from_the_reviews(db, make, world) -> None:
    first = world["proposals"][0]
    confirmed = decide(db, make, world, first, "selected")
    assert confirmed.ranking_row["rank"] == 1 and confirmed.ranking_row["score"] == 5.0
    assert confirmed.ranking_row["reviews"] == 2 and confirmed.reviews_count == 2
    # the canonical JSON written out by hand from the reviews on record
    view = records.get_managed_round(db, make.actor(world["salma"]), world["round_id"])
    rows = db.exec(
        select(JuryReview, JuryAssignment)
        .join(JuryAssignment, col(JuryAssignment.id) == JuryReview.assignment_id)
        .where(JuryAssignment.entry_id == confirmed.entry_id)
        .order_by(col(JuryReview.id))
    ).all()
    document = {
        "count": 2,
        "entry": confirmed.entry_id,
        "reviews": [
            {
                "juror": a.juror_id,
                "review": r.id,
                "scores": {str(c.id): 5.0 for c in view.criteria},
                "submitted_at": r.submitted_at.astimezone(UTC).isoformat(timespec="microseconds"),
                "weighted_score": 5.0,
            }
            for r, a in rows
        ],
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert " " not in text and text.startswith('{"count":2,"entry":')
    assert confirmed.reviews_sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
    check = evidence.check(db, confirmed, view.criteria)
    assert check is not None and check.matches
    # a review changed on record afterwards: the check says so
    changed = rows[0][0]
    changed.scores = {**changed.scores, str(view.criteria[0].id): 4}
    db.add(changed)
    db.flush()
    check = evidence.check(db, confirmed, view.criteria)
    assert check is not None and not check.matches and check.current != confirmed.reviews_sha256


# ---- publication -------------------------------------------------------------------------------------------


def _outbox(db, since: int) -> list[OutboxMessage]:
    return list(db.exec(select(OutboxMessage).where(col(OutboxMessage.id) > since).order_by(col(OutboxMessage.id))))


def _last_id(db) -> int:
    return max(db.exec(select(OutboxMessage.id)).all() or [0])


def test_publication_needs_a_confirmed_decision_for_every_entry(db, make, world) -> None:
    first, second, _ = world["proposals"]
    decide(db, make, world, first, "selected")
    propose(db, make, world, "salma", second, "rejected")  # proposed is not enough
    since = _last_id(db)
    with pytest.raises(Conflict) as refused:
        publication.publish(db, actor(make, world, "sami"), world["round_id"])
    assert refused.value.variables == {"count": 2}
    assert _outbox(db, since) == [] and db.get(JuryRound, world["round_id"]).status == "closed"


def test_publication_emails_each_member_in_their_language_with_the_jury_comments_only(db, make, world) -> None:
    first, second, third = world["proposals"]
    decide(db, make, world, first, "selected")
    decide(db, make, world, second, "waitlisted")
    decide(db, make, world, third, "rejected")
    since = _last_id(db)
    view = publication.publish(db, actor(make, world, "sami"), world["round_id"])
    assert view.status == "decided" and view.round.published_at is not None
    sent = {m.to_address: m for m in _outbox(db, since)}
    assert set(sent) == {"founder@atlas-water.test", "cto@atlas-water.test", "founder@blue-pipes.test",
                         "founder@cedar-flow.test"}  # fmt: skip
    french, arabic = sent["founder@atlas-water.test"], sent["cto@atlas-water.test"]
    assert french.body.startswith("Bonjour,") and "Résultat : Retenue" in french.body
    assert arabic.body.startswith("مرحبًا،") and "النتيجة: مختار" in arabic.body
    assert french.subject == "Medina — Votre proposition est retenue : Water leaks"
    for message in sent.values():
        assert "The team is strong." in message.body
        assert "PRIVATE NOTE" not in message.body and "Zorro" not in message.body
        assert "Because." not in message.body  # the staff's rationale stays with the staff
    assert f"Advice for proposal {first.id}." in french.body
    assert f"Advice for proposal {second.id}." not in french.body  # each startup its own comments
    assert "Outcome: Waiting list" in sent["founder@blue-pipes.test"].body
    decided = db.exec(select(SelectionDecision).where(SelectionDecision.status == "confirmed")).all()
    assert all(d.notified_at is not None for d in decided)
    with pytest.raises(Conflict, match="published already"):
        publication.publish(db, actor(make, world, "omar"), world["round_id"])


def test_a_waitlisted_proposal_promoted_after_publication_is_told_and_gets_its_project(db, make, world) -> None:
    first, second, third = world["proposals"]
    decide(db, make, world, first, "selected")
    decide(db, make, world, second, "waitlisted")
    decide(db, make, world, third, "rejected")
    publication.publish(db, actor(make, world, "sami"), world["round_id"])
    with pytest.raises(Conflict, match="waiting list can still be selected"):  # after publication, promotions only
        propose(db, make, world, "salma", third, "selected")
    with pytest.raises(Conflict, match="waiting list can still be selected"):
        propose(db, make, world, "salma", second, "rejected")
    since = _last_id(db)
    promoted = decide(db, make, world, second, "selected")
    assert db.get(Proposal, second.id).status == "selected" and promoted.notified_at is not None
    told = _outbox(db, since)
    assert [m.to_address for m in told] == ["founder@blue-pipes.test"]
    assert "which was on the waiting list" in told[0].body and "Outcome: Selected" in told[0].body
    assert db.exec(select(Project).where(Project.proposal_id == second.id)).one().decision_id == promoted.id
    assert [o.name for o in publication.selected_startups(db, world["challenge"].id)] == ["Atlas Water", "Blue Pipes"]


# ---- projects ------------------------------------------------------------------------------------------------


def test_a_selection_opens_one_project_however_often_it_is_confirmed(db, make, world) -> None:
    first = world["proposals"][0]
    selected = decide(db, make, world, first, "selected")
    project = db.exec(select(Project).where(Project.proposal_id == first.id)).one()
    assert (project.title, project.startup_id, project.decision_id) == (
        "Acoustic leak sensors",
        first.startup_id,
        selected.id,
    )
    assert project.starts_on == utcnow().date() and project.ends_on == projects.add_months(utcnow().date(), 9)
    decide(db, make, world, first, "waitlisted")  # the staff change their minds before publication
    db.refresh(project)
    assert project.status == "stopped"
    again = decide(db, make, world, first, "selected")
    db.refresh(project)
    assert (project.status, project.decision_id) == ("active", again.id)
    assert len(db.exec(select(Project).where(Project.proposal_id == first.id)).all()) == 1
    assert (
        projects.open_project(db, actor(make, world, "omar"), db.get(Proposal, first.id), decision_id=None).id
        == project.id
    )


def test_a_project_runs_over_the_programme_s_prototyping_phase(db, make, world) -> None:
    db.add(ProgrammePhase(programme_id=world["programme"].id, kind="prototyping", starts_on=date(2027, 1, 4),
                          ends_on=date(2027, 6, 30)))  # fmt: skip
    db.flush()
    decide(db, make, world, world["proposals"][0], "selected")
    project = db.exec(select(Project).where(Project.proposal_id == world["proposals"][0].id)).one()
    assert (project.starts_on, project.ends_on) == (date(2027, 1, 4), date(2027, 6, 30))
    assert projects.add_months(date(2026, 5, 31), 9) == date(2027, 2, 28)


def test_a_project_is_seen_by_its_startup_and_the_challenge_s_staff_only(db, make, world) -> None:
    decide(db, make, world, world["proposals"][0], "selected")
    project = db.exec(select(Project)).one()
    for reader in (world["founders"][0], world["cto"], world["sami"], world["omar"]):
        assert project_records.get_project(db, make.actor(reader), project.id).id == project.id
    for reader in (world["founders"][1], world["pierre"], world["judges"][0], None):
        with pytest.raises(NotFound):
            project_records.get_project(db, make.actor(reader), project.id)


# ---- the faces -----------------------------------------------------------------------------------------------


def test_the_decisions_page_walks_a_decision_from_proposal_to_publication(client, db, make, world) -> None:
    first, second, third = world["proposals"]
    page_path = f"/rounds/{world['round_id']}/decisions"
    sign_in(client, "salma@lydec.test")
    page = client.get(page_path)
    assert page.status_code == 200
    assert (
        page.text.index("Acoustic leak sensors")
        < page.text.index("Pipe relining robots")
        < page.text.index("Smart valves")
    )
    assert "<bdi>Lydec</bdi> has no selected startup yet" in page.text
    # a rationale left out: the error on its field, the choice kept
    refused = post_form(
        client, page_path, {"proposal": str(first.id), "decision": "selected", "rationale": " "}, page=page_path
    )
    assert refused.status_code == 422
    assert f'id="e-rationale-propose-{first.id}"' in refused.text
    assert 'value="selected" required checked' in refused.text
    done = post_form(
        client, page_path, {"proposal": str(first.id), "decision": "selected", "rationale": "Best fit."}, page=page_path
    )
    assert done.status_code == 303
    proposed = db.exec(select(SelectionDecision).where(SelectionDecision.proposal_id == first.id)).one()
    page = client.get(page_path)
    assert "You proposed it: another member of the staff confirms it." in page.text
    assert post_form(client, f"/decisions/{proposed.id}/confirm", {}, page=page_path).status_code == 403
    client.cookies.clear()
    sign_in(client, "omar@casa-innovation.test")
    assert post_form(client, f"/decisions/{proposed.id}/confirm", {}, page=page_path).status_code == 303
    page = client.get(page_path)
    assert "matches the reviews on record" in page.text and "Project opened" in page.text
    # publication needs every entry decided, and the box ticked
    refused = post_form(client, f"/rounds/{world['round_id']}/publish", {"confirm": "yes"}, page=page_path)
    assert refused.status_code == 409 and "Proposals without a confirmed decision: 2." in refused.text
    for p in (second, third):
        decide(db, make, world, p, "rejected")
    assert post_form(client, f"/rounds/{world['round_id']}/publish", {}, page=page_path).status_code == 422
    assert (
        post_form(client, f"/rounds/{world['round_id']}/publish", {"confirm": "yes"}, page=page_path).status_code == 303
    )
    assert db.get(JuryRound, world["round_id"]).status == "decided"


def test_after_publication_the_page_offers_only_the_waiting_list_s_promotion(client, db, make, world) -> None:
    first, second, third = world["proposals"]
    for p, kind in ((first, "selected"), (second, "waitlisted"), (third, "rejected")):
        decide(db, make, world, p, kind)
    publication.publish(db, actor(make, world, "sami"), world["round_id"])
    sign_in(client, "salma@lydec.test")
    page = client.get(f"/rounds/{world['round_id']}/decisions").text
    assert "The outcomes were published on" in page and "Publish the outcomes" not in page
    assert page.count('action="/rounds/{}/decisions"'.format(world["round_id"])) == 1
    assert f'name="proposal" value="{second.id}"' in page and 'value="rejected"' not in page
    assert "Shortlist the top of the ranking" not in page


def test_the_public_page_lists_the_selected_startups_only_after_publication(client, db, make, world) -> None:
    first, second, third = world["proposals"]
    challenge_page = "/programmes/casa-decisions/challenges/leaks-decisions"
    decide(db, make, world, first, "selected")
    decide(db, make, world, second, "waitlisted")
    decide(db, make, world, third, "rejected")
    english = {"Accept-Language": "en"}
    assert "Selected startups" not in client.get(challenge_page, headers=english).text
    atlas_page = f"/proposals/{first.id}"
    sign_in(client, "founder@atlas-water.test")  # reads French
    before = client.get(atlas_page).text
    assert "Les commentaires du jury pour vous" not in before and "Projet de prototypage" not in before
    publication.publish(db, actor(make, world, "sami"), world["round_id"])
    after = client.get(atlas_page).text
    assert "Les commentaires du jury pour vous" in after and "Projet de prototypage" in after
    client.cookies.clear()
    page = client.get(challenge_page, headers=english).text
    assert "Selected startups" in page and "Atlas Water" in page
    assert "Blue Pipes" not in page and "Cedar Flow" not in page
    sign_in(client, "founder@blue-pipes.test")
    mine = client.get(f"/proposals/{second.id}").text
    assert "Outcome of “Final”" in mine and "<strong>Waiting list</strong>" in mine
    assert f"Advice for proposal {second.id}." in mine and "The team is strong." in mine
    assert "PRIVATE NOTE" not in mine and "Zorro" not in mine


def test_the_api_proposes_lists_confirms_and_publishes(client, db, make, world) -> None:
    first = world["proposals"][0]
    _, salma_token = make.token(world["salma"], scope="write")
    _, omar_token = make.token(world["omar"], scope="write")
    as_salma = {"Authorization": f"Bearer {salma_token}", "Accept-Language": "en"}
    as_omar = {"Authorization": f"Bearer {omar_token}", "Accept-Language": "en"}
    base = f"/api/v1/rounds/{world['round_id']}"
    made = client.post(
        f"{base}/decisions", json={"proposal": first.id, "decision": "selected", "rationale": "Best."}, headers=as_salma
    )
    assert made.status_code == 201, made.text
    body = made.json()
    wanted = {"proposal": first.id, "decision": "selected", "status": "proposed", "proposed_by": world["salma"].id,
              "confirmed_by": None, "reviews_sha256": None}  # fmt: skip
    assert {k: body[k] for k in wanted} == wanted
    assert set(body) >= {"id", "round", "rationale", "proposed_at", "confirmed_at", "ranking_row", "reviews_count"}
    again = client.post(
        f"{base}/decisions", json={"proposal": first.id, "decision": "rejected", "rationale": "No."}, headers=as_omar
    )
    assert again.status_code == 409
    assert client.post(f"/api/v1/decisions/{body['id']}/confirm", headers=as_salma).status_code == 403
    confirmed = client.post(f"/api/v1/decisions/{body['id']}/confirm", headers=as_omar)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["reviews_count"] == 2 and len(confirmed.json()["reviews_sha256"]) == 64
    assert confirmed.json()["ranking_row"]["rank"] == 1
    listed = client.get(f"{base}/decisions", headers=as_salma).json()["items"]
    assert [d["id"] for d in listed] == [body["id"]]
    refused = client.post(f"{base}/publish", headers=as_omar)
    assert refused.status_code == 409 and "Proposals without a confirmed decision: 2." in refused.json()["detail"]
    _, judge_token = make.token(world["judges"][0], scope="write")
    assert client.get(f"{base}/decisions", headers={"Authorization": f"Bearer {judge_token}"}).status_code == 403
