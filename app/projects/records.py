"""The projects a reader may see (projects.permissions): their startup's members and their challenge's staff.

The staff's side is decided by the challenge (ChallengeView.is_staff), read in a constant number of queries.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.accounts.models import Organisation
from app.challenges import service as challenges
from app.challenges.service import ChallengeView
from app.errors import NotFound
from app.projects import permissions as can
from app.projects.models import PROJECT_STATUS_LABELS, Project
from app.security.actor import Actor


@dataclass(frozen=True)
class ProjectView:
    project: Project
    startup: Organisation
    challenge: ChallengeView

    @property
    def id(self) -> int:
        return self.project.id or 0

    @property
    def status_label(self) -> str:
        return PROJECT_STATUS_LABELS.get(self.project.status, self.project.status)  # type: ignore[call-overload]


def _visible(session: Session, actor: Actor, projects: Sequence[Project]) -> list[ProjectView]:
    if not projects:
        return []
    views = {v.challenge.id: v for v in challenges.views_for(session, list({p.challenge_id for p in projects}))}
    startups = {
        o.id: o
        for o in session.exec(select(Organisation).where(col(Organisation.id).in_({p.startup_id for p in projects})))
    }
    return [
        ProjectView(p, startups[p.startup_id], views[p.challenge_id])
        for p in projects
        if can.can_view_project(actor, p.startup_id, staff=views[p.challenge_id].is_staff(actor))
    ]


def get_project(session: Session, actor: Actor, project_id: int) -> ProjectView:
    """A project the actor may see; NotFound for everyone else."""
    project = session.get(Project, project_id)
    found = _visible(session, actor, [project] if project is not None else [])
    if not found:
        raise NotFound()
    return found[0]


def projects_of_proposals(session: Session, actor: Actor, proposal_ids: Sequence[int]) -> dict[int, ProjectView]:
    """The projects of these proposals that the actor may see, by proposal id."""
    rows = session.exec(select(Project).where(col(Project.proposal_id).in_(list(proposal_ids) or [-1]))).all()
    return {v.project.proposal_id: v for v in _visible(session, actor, rows)}
