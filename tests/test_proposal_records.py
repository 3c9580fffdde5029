"""The projection of a proposal (app/proposals/records.py): what its startup and what the challenge's staff read
of the same record, which every face (pages, API) shows as it is."""

from datetime import timedelta

import pytest

from app.db import utcnow
from app.errors import NotFound
from app.proposals import attachments, records
from app.proposals import service as proposals
from app.proposals.schemas import ProposalUpdate


@pytest.fixture
def closed_call(db, make):
    """A proposal submitted twice, changed again after its second submission, once the deadline has passed."""
    sponsor_user, sponsor = make.member("partner")
    challenge = make.published_challenge(sponsor)
    writer, _startup = make.member("startup")
    proposal = make.proposal(writer, challenge, submitted=True)
    startup = make.actor(writer)
    view = records.get_proposal(db, startup, proposal.id)
    view = proposals.update_proposal(db, startup, view, ProposalUpdate(title="LeakSense 2"))
    proposals.submit_proposal(db, startup, view, accept_terms=True)
    view = records.get_proposal(db, startup, proposal.id)
    proposals.update_proposal(db, startup, view, ProposalUpdate(title="LeakSense 3, not submitted"))
    attachments.store_attachment_bytes(db, startup, proposal.id, "late.pdf", b"%PDF-1.4 late")
    challenge.deadline = utcnow() - timedelta(minutes=5)
    db.add(challenge)
    db.flush()
    return {"proposal": proposal, "startup": startup, "staff": make.actor(sponsor_user)}


def test_the_startup_reads_its_working_copy_and_every_version(db, closed_call):
    view = records.get_proposal(db, closed_call["startup"], closed_call["proposal"].id)
    assert view.reads_as_startup and not view.reads_as_staff
    assert view.content["title"] == "LeakSense 3, not submitted"
    assert [v.number for v in view.shown_versions] == [1, 2]
    assert view.has_unsubmitted_changes
    assert view.shown_revision == view.proposal.revision
    assert view.shown_updated_at == view.proposal.updated_at
    late = next(a for a in view.attachments if a.name == "late.pdf")
    assert view.shown_attachment(late.id) is late
    assert records.get_version(db, closed_call["startup"], view, 1).number == 1


def test_the_staff_read_the_last_submitted_version_and_nothing_of_the_working_copy(db, closed_call):
    view = records.get_proposal(db, closed_call["staff"], closed_call["proposal"].id)
    assert view.reads_as_staff and not view.reads_as_startup
    assert view.content["title"] == "LeakSense 2"
    assert [v.number for v in view.shown_versions] == [2]
    assert not view.has_unsubmitted_changes
    assert view.shown_revision == view.proposal.submitted_revision < view.proposal.revision
    assert view.shown_updated_at == view.latest.submitted_at
    late = next(a for a in view.attachments if a.name == "late.pdf")
    assert view.shown_attachment(late.id) is None
    assert records.get_version(db, closed_call["staff"], view, 2).number == 2
    with pytest.raises(NotFound):
        records.get_version(db, closed_call["staff"], view, 1)
