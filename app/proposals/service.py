"""Proposals: the working copy and the submission workflow (create, save and merge, submit, withdraw) and the
eligibility check; startups apply to challenges, sponsors read them once the deadline has passed. What each
reader sees of a proposal is records.py; the lists are queries.py; the extra questions and the checks of their
answers, questions.py; the attachments, attachments.py; the exports, exports.py; who may do what, permissions.py.

Rules:
- One proposal per startup per challenge; a startup may apply to many challenges. Any member of a startup
  creates it (on a published challenge whose deadline has not passed) and any member edits it: the working
  copy. Every save bumps its revision; a save based on an older revision is refused (Conflict) so two people
  never silently overwrite each other — the web form then shows both versions.
- Submitting needs the required fields, the required extra questions answered and the challenge's terms
  accepted. It freezes a copy (ProposalVersion) with the terms version accepted (IP terms included, with
  their SHA-256), who accepted and when, a receipt number and the SHA-256 of the canonical JSON of the
  content. Edits after a submission change the working copy only; submitting again makes a new version.
  Every version is kept.
- The server's clock decides: a submission whose transaction reads a time at or after the deadline is
  refused (Conflict, with the deadline in the programme's time zone), whatever the client sent, and the
  time it records is the time it checked. A refused submission writes nothing.
- Withdrawal: before the deadline, by a member; submitting again revives it.
- After the deadline nothing changes for the startup (read-only). The challenge's staff then see the
  proposals that were submitted — the last version submitted, never the working copy — check eligibility
  (recorded with who and when) and export them (CSV, ZIP of attachments). Before the deadline they see
  counts only. Drafts and withdrawn proposals are never shown to them.
- Fields the user may not set (status, challenge after creation, startup) are not in the update shapes.
"""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import update
from sqlmodel import Session, col, select

from app import i18n
from app.accounts.models import Membership, OrgKind, User
from app.audit import service as audit
from app.challenges import service as challenges
from app.challenges import terms as challenge_terms
from app.challenges.models import ChallengeTerms
from app.challenges.service import ChallengeView
from app.config import site_url
from app.db import insert_unique, utcnow
from app.errors import Conflict, Forbidden, Invalid
from app.notifications import service as notifications
from app.proposals import drafts, questions, records
from app.proposals import permissions as can
from app.proposals.models import (
    Proposal,
    ProposalQuestion,
    ProposalStatus,
    ProposalVersion,
    QuestionKind,
)
from app.proposals.questions import answer_problem, check_answers
from app.proposals.records import ProposalView
from app.proposals.schemas import EligibilityDecision, ProposalCreate, ProposalFields
from app.security.actor import Actor
from app.validation import InvalidInput, field_errors

EDITABLE = ("title", "summary", "description", "data_use", "experimentation_plan", "needs")
REQUIRED_TO_SUBMIT = ("title", "summary", "description", "data_use", "experimentation_plan")


class StaleRevision(Conflict):
    """The working copy changed since the editor loaded it."""

    def __init__(self, current: Proposal) -> None:
        super().__init__("A teammate saved this proposal after you opened it. Compare the two versions, then save.")
        self.current = current


def _receipt_number(proposal: Proposal, number: int) -> str:
    return f"MDN-{proposal.challenge_id}-{proposal.id}-{number}-{secrets.token_hex(3).upper()}"


def get_editable_proposal(session: Session, actor: Actor, proposal_id: int) -> ProposalView:
    """A proposal for its edit form: 404 to non-members; Conflict once the call is over (read-only)."""
    view = records.get_member_proposal(session, actor, proposal_id)
    check_editable(view)
    return view


def check_editable(view: ProposalView) -> None:
    if not view.reads_as_startup:
        raise Forbidden("Only the startup's members may change its proposal.")
    if view.deadline_passed:
        raise Conflict(
            "The deadline (%(deadline)s) has passed: the proposal can no longer change.",
            deadline=records.format_deadline(view.challenge),
        )
    if not view.may_edit:
        raise Conflict("This proposal can no longer change.")


def touch(session: Session, actor: Actor, proposal: Proposal) -> None:
    """A change of the working copy: a new revision (so that concurrent editors are told), who and when."""
    proposal.revision += 1
    proposal.updated_at = utcnow()
    proposal.updated_by_id = actor.user_id
    session.add(proposal)


# ---- writing ------------------------------------------------------------------------------------------


def _startup_for(session: Session, actor: Actor, wanted: int | None) -> int:
    mine = actor.organisation_ids(OrgKind.startup)
    if wanted is not None:
        if wanted not in mine:
            raise Invalid({"startup": "You may only apply for a startup you are a member of."})
        return wanted
    if not mine:
        raise Forbidden("Only members of a startup may apply to a challenge.")
    if len(mine) > 1:
        raise Invalid({"startup": "You are a member of several startups: choose the one applying."})
    return next(iter(mine))


def _raise_problems(problems: dict[str, tuple[str, dict[str, Any]]]) -> None:
    if problems:
        raise InvalidInput(problems)


def _apply(
    session: Session, proposal: Proposal, data: ProposalFields, questions: Sequence[ProposalQuestion]
) -> list[str]:
    given = data.model_dump(exclude_unset=True)
    changed: list[str] = []
    for name in EDITABLE:
        if name in given and given[name] is not None and given[name] != getattr(proposal, name):
            setattr(proposal, name, given[name])
            changed.append(name)
    if "trl" in given and given["trl"] != proposal.trl:
        proposal.trl = given["trl"]
        changed.append("trl")
    if "video_url" in given and given["video_url"] is not None and str(given["video_url"]) != proposal.video_url:
        proposal.video_url = str(given["video_url"])
        changed.append("video_url")
    if data.team is not None and [t.model_dump() for t in data.team] != proposal.team:
        proposal.team = [t.model_dump() for t in data.team]
        changed.append("team")
    if data.plan is not None:
        plan = sorted((m.model_dump() for m in data.plan), key=lambda m: m["month"])
        if plan != proposal.plan:
            proposal.plan = plan
            changed.append("plan")
    if data.kpis is not None and list(data.kpis) != proposal.kpis:
        proposal.kpis = list(dict.fromkeys(data.kpis))
        changed.append("kpis")
    if data.answers is not None:  # partial: the questions named are answered (or cleared), the others kept
        answers = {k: v for k, v in proposal.answers.items() if k not in {str(q) for q in data.answers}}
        clean, problems = check_answers(questions, data.answers)
        _raise_problems(problems)
        answers.update(clean)
        if answers != proposal.answers:
            proposal.answers = answers
            changed.append("answers")
    return changed


UNKNOWN_KPI = "Choose among the challenge's indicators."


def _unknown_kpis(challenge: ChallengeView, data: ProposalFields) -> bool:
    known = {k.get("name") for k in challenge.challenge.kpis}
    return bool(data.kpis) and any(k not in known for k in data.kpis or [])


def _check_kpis(challenge: ChallengeView, data: ProposalFields) -> None:
    if _unknown_kpis(challenge, data):
        raise Invalid({"kpis": UNKNOWN_KPI})


def create_proposal(
    session: Session, actor: Actor, data: ProposalCreate, *, now: datetime | None = None
) -> ProposalView:
    """`now`: when the proposal was created, for loading history (the demo); the rules hold at that time."""
    challenge = challenges.get_challenge(session, actor, data.challenge)
    now = now or utcnow()
    startup_id = _startup_for(session, actor, data.startup)
    if not can.can_create_proposal(actor, challenge.challenge, now):
        if can.deadline_passed(challenge.challenge, now):
            raise Conflict(
                "The deadline (%(deadline)s) has passed: proposals are closed.",
                deadline=records.format_deadline(challenge),
            )
        raise Conflict("This challenge does not take proposals.")
    existing = session.exec(
        select(Proposal.id).where(Proposal.challenge_id == challenge.challenge.id, Proposal.startup_id == startup_id)
    ).first()
    if existing is not None:
        raise Conflict("Your startup already has a proposal for this challenge.", proposal=existing)
    _check_kpis(challenge, data)
    proposal = Proposal(
        challenge_id=challenge.challenge.id or 0,
        startup_id=startup_id,
        created_by_id=actor.user_id,
        updated_by_id=actor.user_id,
    )
    _apply(session, proposal, data, questions.list_questions(session, actor, challenge))
    if not insert_unique(session, proposal):  # another member's request created it a moment ago
        twin = select(Proposal.id).where(
            Proposal.challenge_id == challenge.challenge.id, Proposal.startup_id == startup_id
        )
        raise Conflict("Your startup already has a proposal for this challenge.", proposal=session.exec(twin).first())
    drafts.record(session, proposal, drafts.field_values(proposal), saved_by=actor.user_id, editor=None, full=True)
    audit.record(session, "proposal.created", actor=actor, target=("proposal", proposal.id))
    return records.get_proposal(session, actor, proposal.id or 0)


def update_proposal(
    session: Session, actor: Actor, view: ProposalView, data: ProposalFields, *, expected_revision: int | None = None
) -> ProposalView:
    """Save the working copy (the API's PATCH). `expected_revision` is the revision the caller read: a stale
    one is refused, unless the save would change nothing."""
    check_editable(view)
    proposal = records.lock(session, view.proposal)
    _check_kpis(view.challenge, data)
    if expected_revision is not None and expected_revision != proposal.revision:
        # A stale request that would change nothing (the same text, saved a moment ago by this very caller)
        # is no conflict; one that would overwrite a teammate's work is refused.
        probe = Proposal(**proposal.model_dump())
        if _apply(session, probe, data, view.questions):
            raise StaleRevision(proposal)
        return view
    before = drafts.field_values(proposal)
    _apply(session, proposal, data, view.questions)
    if not _save_changes(session, actor, proposal, before, editor=None):
        return view
    return records.get_proposal(session, actor, proposal.id or 0)


def _save_changes(
    session: Session, actor: Actor, proposal: Proposal, before: dict[str, Any], *, editor: str | None
) -> dict[str, Any]:
    """A new revision for what changed since `before` (recorded for merging, and audited); the changes."""
    changes = drafts.changes_between(before, drafts.field_values(proposal))
    if changes:
        touch(session, actor, proposal)
        session.flush()
        drafts.record(session, proposal, changes, saved_by=actor.user_id, editor=editor)
        audit.record(session, "proposal.updated", actor=actor, target=("proposal", proposal.id), fields=list(changes))
    return changes


@dataclass
class DraftSave:
    """What a save of the proposal form did (see app/proposals/drafts.py)."""

    view: ProposalView
    saved: list[str]  # the fields saved from this form
    kept: list[str]  # fields a teammate changed since the form was drawn, kept as they saved them
    conflicts: dict[str, Any]  # fields changed by both, with the teammate's value: not saved
    problems: dict[str, tuple[str, dict[str, Any]]]  # fields whose input could not be taken: not saved


def save_draft(
    session: Session,
    actor: Actor,
    view: ProposalView,
    data: ProposalFields,
    *,
    base: int | None,
    editor: str | None,
    choices: dict[str, str] | None = None,
    seen: int | None = None,
    problems: dict[str, tuple[str, dict[str, Any]]] | None = None,
) -> DraftSave:
    """Save a proposal form drawn at revision `base` by the editing page `editor`: every field that can be
    taken is saved, merged with what teammates saved since; `problems` are the form's fields that could not
    be read (kept out of `data`). `choices` say, for fields changed by both, which text to keep; they were made
    on a conflict screen drawn at revision `seen`, and a field a teammate changed again since is shown again."""
    check_editable(view)
    proposal = records.lock(session, view.proposal)
    problems = dict(problems or {})
    if _unknown_kpis(view.challenge, data):
        problems["kpis"] = (UNKNOWN_KPI, {})
        data = data.model_copy(update={"kpis": None})
    if data.answers is not None:
        _, answer_problems = check_answers(view.questions, data.answers)
        problems.update(answer_problems)
        valid = {k: v for k, v in data.answers.items() if f"answers.{k}" not in answer_problems}
        data = data.model_copy(update={"answers": valid})
    probe = Proposal(**proposal.model_dump())
    _apply(session, probe, data, view.questions)
    mine, current = drafts.field_values(probe), drafts.field_values(proposal)
    posted = _posted_fields(data)
    since: set[str] = set()
    if base is not None and base != proposal.revision:  # a form without a revision is read as current
        since = drafts.changed_by_others(session, proposal.id or 0, base, editor)
    at_base = drafts.values_at(session, proposal.id or 0, base or 0, since & posted)
    long_answers = {f"answers.{q.id}" for q in view.questions if q.kind == QuestionKind.long_text}
    choices = dict(choices or {})
    if choices:  # a choice stands for the teammate's text the editor was shown, not for a newer one
        newer = drafts.changed_by_others(session, proposal.id or 0, seen, editor) if seen is not None else set(choices)
        choices = {k: v for k, v in choices.items() if k not in newer}
    taken: dict[str, Any] = {}
    kept: list[str] = []
    conflicts: dict[str, Any] = {}
    for key in sorted(posted):
        ours, theirs = drafts.value_of(mine, key), drafts.value_of(current, key)
        if ours == theirs:
            continue
        if key not in since:
            taken[key] = ours
        elif at_base[key] is not drafts.UNKNOWN and ours == at_base[key]:
            kept.append(key)
        else:
            choice = choices.get(key)
            if choice == "mine":
                taken[key] = ours
            elif choice == "both" and drafts.may_join(key, long_answers):
                joined = drafts.both(key, theirs, ours)
                problem = _joined_problem(key, joined, view.questions)
                if problem is None:
                    taken[key] = joined
                else:
                    problems[key] = problem
                    conflicts[key] = theirs
            elif choice != "theirs":
                conflicts[key] = theirs
    before = drafts.field_values(proposal)
    for key, value in taken.items():
        drafts.set_field(proposal, key, value)
    saved = list(_save_changes(session, actor, proposal, before, editor=editor))
    if saved:
        view = records.get_proposal(session, actor, proposal.id or 0)
    return DraftSave(view=view, saved=saved, kept=kept, conflicts=conflicts, problems=problems)


def _posted_fields(data: ProposalFields) -> set[str]:
    """The fields a form or request gives (as _apply reads them)."""
    given = data.model_dump(exclude_unset=True)
    keys = {k for k in (*drafts.TEXTS, *drafts.LISTS) if given.get(k) is not None}
    if "trl" in given:
        keys.add("trl")
    keys.update(f"{drafts.ANSWER}{k}" for k in (data.answers or {}))
    return keys


def _joined_problem(key: str, value: Any, questions: Sequence[ProposalQuestion]) -> tuple[str, dict[str, Any]] | None:
    """Why two texts joined cannot be saved (too long), or None."""
    if key.startswith(drafts.ANSWER):
        question = next((q for q in questions if f"{drafts.ANSWER}{q.id}" == key), None)
        return None if question is None else answer_problem(question, value)
    try:
        ProposalFields.model_validate({key: value})
    except ValidationError as exc:
        return next(iter(field_errors(exc.errors()).values()))
    return None


def submission_problems(view: ProposalView) -> dict[str, str]:
    """What is missing before the proposal can be submitted, by field."""
    p = view.proposal
    problems: dict[str, str] = {}
    for name in REQUIRED_TO_SUBMIT:
        if not str(getattr(p, name)).strip():
            problems[name] = "This field is required to submit."
    if not p.team:
        problems["team"] = "Name at least one member of the team."
    if p.trl is None:
        problems["trl"] = "This field is required to submit."
    if not p.plan:
        problems["plan"] = "Give at least one milestone of the nine-month plan."
    for q in view.questions:
        if not q.required:
            continue
        if q.kind == QuestionKind.file:
            if view.attachment_for(q.id or 0) is None:
                problems[f"answers.{q.id}"] = "This question needs an answer to submit."
        elif p.answers.get(str(q.id)) in (None, "", []):
            problems[f"answers.{q.id}"] = "This question needs an answer to submit."
    return problems


def submit_proposal(
    session: Session,
    actor: Actor,
    view: ProposalView,
    *,
    accept_terms: bool,
    terms_version: int | None = None,
    terms_language: str | None = None,
    now: datetime | None = None,
) -> ProposalVersion:
    """Submit the working copy as a new version (see the rules above). Nothing is written on refusal. `view` is
    brought up to date under the locks (read already under them when loaded with for_submission=True) and,
    once submitted, shows the new version: no need to load it again.
    `terms_version` is the version of the terms the user was shown: if they changed since, they read again;
    `terms_language` the language they were shown in (the current one when None, see challenges/terms.py)."""
    now = now or utcnow()
    if not view.reads_as_startup:
        raise Forbidden("Only the startup's members may submit its proposal.")
    records.relock_for_submission(session, actor, view, now)
    if can.deadline_passed(view.challenge.challenge, now):
        raise Conflict(
            "The deadline (%(deadline)s) has passed: late submissions are refused.",
            deadline=records.format_deadline(view.challenge),
        )
    check_editable(view)
    if not accept_terms:
        raise Invalid({"accept_terms": "Accept the challenge's terms to submit."})
    if terms_version is not None and terms_version != view.challenge.challenge.terms_version:
        raise Conflict(
            "The terms changed (now version %(v)s) since you read them: read them again, then submit.",
            v=view.challenge.challenge.terms_version,
        )
    problems = submission_problems(view)
    if problems:
        raise Invalid(problems, detail="The proposal cannot be submitted yet.")
    proposal = view.proposal
    terms = view.challenge.terms  # the current version's, read with the challenge
    if terms is None or terms.version != view.challenge.challenge.terms_version:  # the view was read before the lock
        terms = session.exec(
            select(ChallengeTerms).where(
                ChallengeTerms.challenge_id == proposal.challenge_id,
                ChallengeTerms.version == view.challenge.challenge.terms_version,
            )
        ).one()
    accepted = challenge_terms.shown_to(terms, terms_language)
    # frozen once, by the first acceptance, even when many startups submit at the same moment
    session.execute(
        update(ChallengeTerms)
        .where(col(ChallengeTerms.id) == terms.id, col(ChallengeTerms.frozen_at).is_(None))
        .values(frozen_at=now)
    )
    number = (view.latest.number if view.latest else 0) + 1  # the versions were read under the proposal's lock
    content = records.snapshot(proposal, view.current_attachments)
    version = ProposalVersion(
        proposal_id=proposal.id or 0,
        number=number,
        content=content,
        sha256=records.content_sha256(content),
        receipt_number=_receipt_number(proposal, number),
        terms_id=terms.id or 0,
        terms_version=terms.version,
        terms_sha256=accepted.sha256,
        terms_language=accepted.language,
        accepted_by_id=actor.user_id,
        accepted_by_name=actor.user.name if actor.user else "",
        submitted_at=now,
    )
    session.add(version)
    proposal.status = ProposalStatus.submitted
    proposal.submitted_at = now
    proposal.submitted_revision = proposal.revision
    proposal.withdrawn_at = None
    session.add(proposal)
    session.flush()
    view.versions.append(version)
    audit.record(
        session,
        "proposal.submitted",
        actor=actor,
        target=("proposal", proposal.id),
        version=number,
        receipt=version.receipt_number,
        sha256=version.sha256,
        terms_version=terms.version,
    )
    _send_receipts(session, view, version)
    return version


def _startup_members(session: Session, view: ProposalView) -> Sequence[User]:
    """The active members of the proposal's startup: whom its emails go to."""
    return session.exec(
        select(User)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.organisation_id == view.proposal.startup_id, col(User.is_active).is_(True))
        .order_by(col(User.id))
    ).all()


def _send_receipts(session: Session, view: ProposalView, version: ProposalVersion) -> None:
    notifications.email_each(
        session,
        _startup_members(session, view),
        i18n.N_("Receipt %(number)s"),
        "emails/proposal_receipt.txt",
        subject_vars={"number": version.receipt_number},
        view=view,
        version=version,
        deadline=lambda: records.format_deadline(view.challenge),
    )


def withdraw_proposal(session: Session, actor: Actor, view: ProposalView) -> ProposalView:
    check_editable(view)
    if not view.may_withdraw:
        raise Conflict("Only a submitted proposal can be withdrawn.")
    proposal = records.lock(session, view.proposal)
    proposal.status = ProposalStatus.withdrawn
    proposal.withdrawn_at = utcnow()
    session.add(proposal)
    session.flush()
    audit.record(session, "proposal.withdrawn", actor=actor, target=("proposal", proposal.id))
    return records.get_proposal(session, actor, proposal.id or 0)


def decide_eligibility(session: Session, actor: Actor, view: ProposalView, data: EligibilityDecision) -> ProposalView:
    if not view.may_check_eligibility:
        raise Forbidden("Only the challenge's sponsors and operator may check eligibility, after the deadline.")
    if not data.eligible and not data.reason:
        raise Invalid({"reason": "Give the reason why the proposal is not eligible."})
    proposal = view.proposal
    proposal.status = ProposalStatus.eligible if data.eligible else ProposalStatus.ineligible
    proposal.eligibility_reason = data.reason
    proposal.eligibility_by_id = actor.user_id
    proposal.eligibility_at = utcnow()
    session.add(proposal)
    session.flush()
    audit.record(
        session,
        "proposal.eligibility",
        actor=actor,
        target=("proposal", proposal.id),
        eligible=data.eligible,
        reason=data.reason,
    )
    _send_eligibility_decision(session, view)
    return view


def _send_eligibility_decision(session: Session, view: ProposalView) -> None:
    """Each member of the startup is told the decision (and the reason) in their own language."""
    eligible = view.proposal.status == ProposalStatus.eligible
    notifications.email_each(
        session,
        _startup_members(session, view),
        i18n.N_("Your proposal is eligible") if eligible else i18n.N_("Your proposal is not eligible"),
        "emails/proposal_eligibility.txt",
        view=view,
        eligible=eligible,
        title=view.latest.content.get("title", "") if view.latest else view.proposal.title,
        link=site_url(f"/proposals/{view.proposal.id}"),
    )
