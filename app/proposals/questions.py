"""Extra questions: what a challenge's sponsors ask every applicant, after the proposal's common fields.

Rules:
- The challenge's editors (its sponsors, the programme operator, platform admins) add, edit, reorder and
  remove them; anyone else who may see the challenge may read them, and a draft's are as hidden as the
  draft (404).
- They change only until the first proposal is submitted to the challenge: a submitted version answers
  exactly the questions it was shown (Conflict afterwards).
- A question keeps its kind of answer once asked (drafts may already hold answers of that kind): to ask
  for another kind, remove it and add a new one. Its label, help, options and whether it is required can
  change.
- A choice question has at least two different options; repeated options are kept once.
- Every change is in the audit log, on the challenge.
"""

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.challenges import service as challenges
from app.challenges.models import Challenge
from app.challenges.service import ChallengeView
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.proposals.models import Proposal, ProposalQuestion, ProposalVersion, QuestionKind
from app.proposals.schemas import QuestionCreate, QuestionUpdate
from app.security.actor import Actor

CHOICE_KINDS = (QuestionKind.single_choice, QuestionKind.multiple_choice)
FROZEN = "Proposals were already submitted: the questions can no longer change."


def list_questions(session: Session, actor: Actor, challenge: ChallengeView) -> list[ProposalQuestion]:
    """The challenge's questions in the order applicants see them (`challenge` is already checked)."""
    return list(
        session.exec(
            select(ProposalQuestion)
            .where(ProposalQuestion.challenge_id == challenge.challenge.id)
            .order_by(col(ProposalQuestion.position), col(ProposalQuestion.id))
        )
    )


def has_submissions(session: Session, challenge: ChallengeView) -> bool:
    return (
        session.exec(
            select(ProposalVersion.id)
            .join(Proposal, col(Proposal.id) == ProposalVersion.proposal_id)
            .where(Proposal.challenge_id == challenge.challenge.id)
        ).first()
        is not None
    )


def _check_changeable(session: Session, actor: Actor, challenge: ChallengeView) -> None:
    if not challenge.may_edit(actor):
        raise Forbidden("Only the challenge's sponsors and the programme operator may change its questions.")
    # a submission holds the challenge row in share mode (submit_proposal): none is half-way while we check
    session.exec(select(Challenge.id).where(Challenge.id == challenge.challenge.id).with_for_update()).one()
    if has_submissions(session, challenge):
        raise Conflict(FROZEN)


def _choices(kind: str, choices: Sequence[str]) -> list[str]:
    if kind not in CHOICE_KINDS:
        return []
    kept = list(dict.fromkeys(choices))
    if len(kept) < 2:
        raise Invalid({"choices": "Give at least two different options."})
    return kept


def get_editable_question(session: Session, actor: Actor, question_id: int) -> tuple[ProposalQuestion, ChallengeView]:
    """A question with its challenge, for those who may edit the challenge; 404 for anyone else."""
    question = session.get(ProposalQuestion, question_id)
    if question is None:
        raise NotFound()
    challenge = challenges.get_challenge(session, actor, question.challenge_id)
    if not challenge.may_edit(actor):
        raise NotFound()
    return question, challenge


def add_question(session: Session, actor: Actor, challenge: ChallengeView, data: QuestionCreate) -> ProposalQuestion:
    _check_changeable(session, actor, challenge)
    choices = _choices(data.kind, data.choices)
    position = (
        session.exec(
            select(func.max(ProposalQuestion.position)).where(ProposalQuestion.challenge_id == challenge.challenge.id)
        ).one()
        or 0
    ) + 1
    question = ProposalQuestion(
        challenge_id=challenge.challenge.id or 0,
        position=position,
        kind=data.kind,
        label=data.label,
        help=data.help,
        choices=choices,
        required=data.required,
    )
    session.add(question)
    session.flush()
    audit.record(
        session,
        "proposal_question.added",
        actor=actor,
        target=("challenge", challenge.challenge.id),
        question=question.id,
    )
    return question


def update_question(session: Session, actor: Actor, question_id: int, data: QuestionUpdate) -> ProposalQuestion:
    """Change what the question says (label, help, options, required); its kind stays."""
    question, challenge = get_editable_question(session, actor, question_id)
    _check_changeable(session, actor, challenge)
    changes = {
        "label": data.label,
        "help": data.help,
        "choices": _choices(question.kind, data.choices),
        "required": data.required,
    }
    changed = [name for name, value in changes.items() if getattr(question, name) != value]
    if not changed:
        return question
    for name in changed:
        setattr(question, name, changes[name])
    session.add(question)
    session.flush()
    audit.record(
        session,
        "proposal_question.updated",
        actor=actor,
        target=("challenge", challenge.challenge.id),
        question=question.id,
        fields=changed,
    )
    return question


def reorder_questions(
    session: Session, actor: Actor, challenge: ChallengeView, order: Sequence[int]
) -> list[ProposalQuestion]:
    """Put the challenge's questions in the given order: every one of its questions' ids, once each."""
    _check_changeable(session, actor, challenge)
    questions = list_questions(session, actor, challenge)
    by_id = {q.id: q for q in questions}
    if len(order) != len(by_id) or set(order) != set(by_id):
        raise Invalid({"order": "List every question of the challenge once, in the order wanted."})
    if list(order) == [q.id for q in questions]:
        return questions
    for position, question_id in enumerate(order, start=1):
        by_id[question_id].position = position
        session.add(by_id[question_id])
    session.flush()
    audit.record(
        session,
        "proposal_question.reordered",
        actor=actor,
        target=("challenge", challenge.challenge.id),
        order=list(order),
    )
    return [by_id[i] for i in order]


def move_question(session: Session, actor: Actor, question_id: int, step: int) -> ChallengeView:
    """Move a question one place up (step -1) or down (+1); at either end it stays where it is."""
    _question, challenge = get_editable_question(session, actor, question_id)
    order = [q.id or 0 for q in list_questions(session, actor, challenge)]
    here = order.index(question_id)
    there = here + step
    if 0 <= there < len(order):
        order[here], order[there] = order[there], order[here]
    reorder_questions(session, actor, challenge, order)
    return challenge


def remove_question(session: Session, actor: Actor, question_id: int) -> ChallengeView:
    question, challenge = get_editable_question(session, actor, question_id)
    _check_changeable(session, actor, challenge)
    session.delete(question)
    session.flush()
    audit.record(
        session,
        "proposal_question.removed",
        actor=actor,
        target=("challenge", challenge.challenge.id),
        question=question_id,
    )
    return challenge


# ---- answers ------------------------------------------------------------------------------------------

TEXT_KINDS = (QuestionKind.short_text, QuestionKind.long_text)


def check_answers(
    questions: Sequence[ProposalQuestion], answers: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, tuple[str, dict[str, Any]]]]:
    """Answers keyed by question id, checked against each question's kind and choices; and the problems of the
    answers that could not be taken (message and its variables, by field)."""
    by_id = {str(q.id): q for q in questions}
    clean: dict[str, Any] = {}
    problems: dict[str, tuple[str, dict[str, Any]]] = {}
    for key, value in answers.items():
        question = by_id.get(str(key))
        name = f"answers.{key}"
        if question is None:
            problems[name] = ("This question does not exist for this challenge.", {})
            continue
        if value in (None, "", []):
            continue
        problem = answer_problem(question, value)
        if problem is not None:
            problems[name] = problem
            continue
        if question.kind == QuestionKind.number:
            number = float(str(value).replace(",", ".").strip())
            clean[str(key)] = int(number) if number.is_integer() else number
        elif question.kind == QuestionKind.multiple_choice:
            clean[str(key)] = [str(v) for v in (value if isinstance(value, list) else [value])]
        else:
            clean[str(key)] = str(value).strip() if question.kind in TEXT_KINDS else str(value)
    return clean, problems


def answer_problem(question: ProposalQuestion, value: Any) -> tuple[str, dict[str, Any]] | None:
    """Why `value` cannot answer `question`, or None."""
    if question.kind == QuestionKind.file:
        return "Answer this question by uploading a file.", {}
    if question.kind == QuestionKind.number:
        try:
            number = float(str(value).replace(",", ".").strip())
        except ValueError:
            return "Enter a number.", {}
        return None if math.isfinite(number) and abs(number) <= 1e15 else ("Enter a number.", {})
    if question.kind == QuestionKind.multiple_choice:
        values = value if isinstance(value, list) else [value]
        return None if all(str(v) in question.choices for v in values) else ("Choose one of the options.", {})
    if not isinstance(value, str):
        return "Enter a valid value.", {}
    if question.kind == QuestionKind.single_choice:
        return None if value in question.choices else ("Choose one of the options.", {})
    limit = 300 if question.kind == QuestionKind.short_text else 10_000
    if len(value.strip()) > limit:
        return "Use at most %(max_length)s characters.", {"max_length": limit}
    return None
