"""The demo shows the sponsors' side after a deadline at once: its street-lighting call is closed, with
proposals that demo startups submitted before the deadline and an eligibility decision, and its jury at work;
the school-safety call's selection is done and published. Loading it again changes nothing."""

from sqlmodel import Session, col, select

from app import demo
from app.accounts import service as accounts
from app.accounts.models import Organisation
from app.challenges.models import Challenge
from app.challenges.service import effective_status
from app.cli import DEMO_PROGRAMME
from app.importer import import_folder
from app.jury.models import Juror, JuryAssignment, JuryEntry, JuryReview, JuryRound
from app.proposals import queries as proposal_queries
from app.proposals import service as proposals
from app.proposals.models import Proposal, ProposalVersion


def _load(db: Session) -> None:
    demo.load(db)
    import_folder(db, DEMO_PROGRAMME)
    demo.load_proposals(db)
    db.flush()


def test_the_demo_has_a_closed_call_with_submitted_proposals_for_the_sponsors(db: Session) -> None:
    _load(db)
    lighting = db.exec(select(Challenge).where(Challenge.slug == "eclairage-hay-hassani")).one()
    assert effective_status(lighting) == "closed"
    rows = db.exec(select(Proposal).where(Proposal.challenge_id == lighting.id).order_by(col(Proposal.id))).all()
    assert sorted(p.status for p in rows) == ["eligible", "eligible", "eligible", "submitted"]
    versions = db.exec(select(ProposalVersion).where(col(ProposalVersion.proposal_id).in_([p.id for p in rows])))
    assert all(v.submitted_at < lighting.deadline for v in versions)  # submitted in time, as history

    city = accounts.build_actor(db, accounts.get_user_by_email(db, "city@medina.test"))
    view = proposal_queries.challenge_proposals(db, city, proposals.challenges.get_challenge(db, city, lighting.id))
    assert view.reviewable and len(view.proposals) == 4  # the sponsor reads them now

    _load(db)
    assert len(db.exec(select(Proposal).where(Proposal.challenge_id == lighting.id)).all()) == 4


def test_the_demo_has_an_open_round_that_a_newcomer_juror_can_score_at_once(db: Session) -> None:
    from app.jury import assignments, jurors
    from app.jury.records import get_round, seated_rounds

    _load(db)
    lighting = db.exec(select(Challenge).where(Challenge.slug == "eclairage-hay-hassani")).one()
    rounds = db.exec(select(JuryRound).where(JuryRound.challenge_id == lighting.id).order_by(JuryRound.position)).all()
    assert [(r.name, r.status) for r in rounds] == [("Présélection sur dossier", "open"), ("Auditions", "draft")]
    hind = accounts.build_actor(db, accounts.get_user_by_email(db, "jury@medina.test"))
    [seat] = [s for s in seated_rounds(db, hind) if s.round.challenge_id == lighting.id]
    assert seat.accepts_reviews and next(c.name for c in seat.criteria) == "Équipe"
    mine = assignments.list_assignments(db, hind, get_round(db, hind, seat.id))
    assert len(mine) == 3 and {a.status for a in mine} == {"pending"}  # three proposals to score, none started
    city = accounts.build_actor(db, accounts.get_user_by_email(db, "city@medina.test"))
    staff_view = get_round(db, city, seat.id)
    [conflict] = jurors.list_conflicts(db, city, staff_view)
    assert (conflict.juror.email, conflict.startup.slug, conflict.conflict.source) == (
        "tram@medina.test",
        "casalux",
        "declared",
    )
    karim = next(p for p in assignments.progress(db, city, staff_view)[0] if p.juror.email == "tram@medina.test")
    assert karim.assigned == 2  # every entry but CasaLux's
    assert sum(p.submitted for p in assignments.progress(db, city, staff_view)[0]) == 1

    _load(db)  # idempotent
    assert len(db.exec(select(JuryRound).where(JuryRound.challenge_id == lighting.id)).all()) == 2


def test_the_demo_has_a_selection_decided_by_two_people_and_published(db: Session) -> None:
    from app.projects.models import Project
    from app.selection.models import SelectionDecision

    _load(db)
    schools = db.exec(select(Challenge).where(Challenge.slug == "securite-routiere-ecoles")).one()
    [written] = db.exec(select(JuryRound).where(JuryRound.challenge_id == schools.id)).all()
    assert written.status == "decided" and written.published_at is not None
    outcome = {
        p.startup_id: p.status for p in db.exec(select(Proposal).where(Proposal.challenge_id == schools.id)).all()
    }
    slugs = {o.id: o.slug for o in db.exec(select(Organisation)).all()}
    assert {slugs[k]: v for k, v in outcome.items()} == {
        "wayz": "selected",
        "luminour": "waitlisted",
        "casalux": "rejected",
    }
    decided = db.exec(select(SelectionDecision).where(SelectionDecision.round_id == written.id)).all()
    assert len(decided) == 3 and all(d.status == "confirmed" for d in decided)
    assert all(d.confirmed_by_id != d.proposed_by_id and d.reviews_count == 2 for d in decided)
    [project] = db.exec(select(Project).where(Project.challenge_id == schools.id)).all()
    assert (slugs[project.startup_id], project.status) == ("wayz", "active")
    karim = accounts.get_user_by_email(db, "tram@medina.test")
    reviewed_by_karim = db.exec(
        select(Proposal.startup_id)
        .join(JuryEntry, col(JuryEntry.proposal_id) == Proposal.id)
        .join(JuryAssignment, col(JuryAssignment.entry_id) == JuryEntry.id)
        .join(Juror, col(Juror.id) == JuryAssignment.juror_id)
        .join(JuryReview, col(JuryReview.assignment_id) == JuryAssignment.id)
        .where(Juror.user_id == karim.id, JuryEntry.round_id == written.id)
    ).all()
    assert "casalux" not in {slugs[s] for s in reviewed_by_karim}  # his declared conflict holds

    _load(db)  # idempotent
    assert len(db.exec(select(SelectionDecision).where(SelectionDecision.round_id == written.id)).all()) == 3
