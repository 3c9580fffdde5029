"""A proposal's attachments: files its startup adds to the working copy, general or answering a file question.

Rules:
- They follow the datasets' upload rules (streamed, size limit, allow-listed types checked by content), and
  change only while the working copy may (service.check_editable); at most MAX_ATTACHMENTS at a time.
- A file question has one file: a new one replaces the previous.
- A removed attachment leaves the working copy but stays stored while a submitted version lists it; otherwise
  it is deleted with its file once the change is committed.
- A reader downloads the attachments of what they read (records.ProposalView.shown_attachment): the startup, any
  of the working copy's; the staff, those of the last submitted version.
"""

from pathlib import Path

from sqlmodel import Session

from app.audit import service as audit
from app.db import after_commit, utcnow
from app.errors import Invalid, NotFound
from app.files import staging, uploads
from app.files.multipart import ReceivedUpload
from app.files.uploads import UploadBody
from app.proposals import records
from app.proposals.models import ProposalAttachment, QuestionKind
from app.proposals.records import ProposalView
from app.proposals.service import check_editable, touch
from app.security.actor import Actor
from app.validation import whole_number

MAX_ATTACHMENTS = 20


def _prepare_attachment(session: Session, actor: Actor, proposal_id: int) -> ProposalView:
    view = records.get_proposal(session, actor, proposal_id)
    check_editable(view)
    if len(view.current_attachments) >= MAX_ATTACHMENTS:
        raise Invalid({"file": "A proposal has at most %(count)s attachments."}, count=MAX_ATTACHMENTS)
    return view


def add_attachment(
    session: Session, actor: Actor, proposal_id: int, staged: staging.StagedFile, *, question_id: int | None = None
) -> ProposalAttachment:
    view = _prepare_attachment(session, actor, proposal_id)
    if question_id is not None:
        question = next((q for q in view.questions if q.id == question_id and q.kind == QuestionKind.file), None)
        if question is None:
            raise Invalid({"file": "This question does not take a file."})
        previous = view.attachment_for(question_id)
        if previous is not None:
            _drop_attachment(session, view, previous)
    proposal = records.lock(session, view.proposal)
    key = staging.new_storage_key("proposals")
    staging.remove_on_rollback(session, staged.move_into_place(key))
    attachment = ProposalAttachment(
        proposal_id=proposal.id or 0,
        question_id=question_id,
        name=staged.name,
        size=staged.size,
        sha256=staged.sha256,
        media_type=staged.media_type,
        storage_key=key,
        uploaded_by_id=actor.user_id,
    )
    session.add(attachment)
    touch(session, actor, proposal)
    session.flush()
    audit.record(
        session,
        "proposal.attachment_added",
        actor=actor,
        target=("proposal", proposal.id),
        attachment=attachment.id,
        sha256=attachment.sha256,
    )
    return attachment


async def receive_attachment(session: Session, actor: Actor, proposal_id: int, body: UploadBody) -> ProposalAttachment:
    """Stream a multipart upload (field `file`, optional field `question`) into a new attachment. As for
    datasets: permissions before a byte is read and again when writing (app/files/uploads.py)."""

    def keep(received: ReceivedUpload) -> ProposalAttachment:
        question_id = whole_number(received.fields.get("question", "").strip(), max_digits=9)
        return add_attachment(session, actor, proposal_id, received.staged, question_id=question_id)

    return await uploads.receive(body, check=lambda: _prepare_attachment(session, actor, proposal_id), keep=keep)


def store_attachment_bytes(
    session: Session, actor: Actor, proposal_id: int, name: str, data: bytes, *, question_id: int | None = None
) -> ProposalAttachment:
    """Add an in-memory file through the same checks as an upload (demo data, tests)."""
    staged = staging.write_bytes(name, data)
    try:
        return add_attachment(session, actor, proposal_id, staged, question_id=question_id)
    finally:
        staged.discard()


def remove_attachment(session: Session, actor: Actor, proposal_id: int, attachment_id: int) -> ProposalView:
    view = records.relock(session, actor, records.get_proposal(session, actor, proposal_id))
    check_editable(view)
    attachment = next((a for a in view.current_attachments if a.id == attachment_id), None)
    if attachment is None:
        raise NotFound()
    touch(session, actor, view.proposal)
    session.flush()
    _drop_attachment(session, view, attachment)
    audit.record(session, "proposal.attachment_removed", actor=actor, target=("proposal", proposal_id))
    return records.get_proposal(session, actor, proposal_id)


def _drop_attachment(session: Session, view: ProposalView, attachment: ProposalAttachment) -> None:
    """Take an attachment out of the working copy: kept (hidden) while a submitted version lists it, else
    deleted with its file once the change is committed."""
    attachment.removed_at = utcnow()
    session.add(attachment)
    if any(attachment.id in {a["id"] for a in v.content.get("attachments", [])} for v in view.versions):
        return
    session.delete(attachment)
    key = attachment.storage_key
    after_commit(session, lambda: staging.remove_stored(key))


def get_attachment(session: Session, actor: Actor, proposal_id: int, attachment_id: int) -> ProposalAttachment:
    """An attachment the actor may download: members, any of theirs; staff, those of the last version."""
    found = records.get_proposal(session, actor, proposal_id).shown_attachment(attachment_id)
    if found is None:
        raise NotFound()
    return found


def attachment_path(attachment: ProposalAttachment) -> Path:
    try:
        path = staging.path_for(attachment.storage_key)
    except ValueError:
        raise NotFound() from None
    if not path.is_file():
        raise NotFound()
    return path
