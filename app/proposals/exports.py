"""Exports of a challenge's submitted proposals for its staff: a CSV (one row each, last version) and a ZIP of
their attachments.

Rules:
- Only once the deadline has passed, for whoever may review the proposals (the service's listing decides).
- The CSV speaks the reader's language: translated column headers and statuses, times in the programme's
  time zone (ISO 8601 with their offset). It comes in two forms: comma-separated, and semicolon-separated
  for Excel in French and Arabic locales (where the comma is the decimal mark); both UTF-8 with a BOM, so
  that spreadsheets read accents and Arabic right. A cell that starts like a formula is made text.
- The ZIP holds one folder per proposal; with no attachment at all there is no archive: NothingToExport
  says so.
- Every export is recorded in the audit log.
"""

import csv
import io
import os
import tempfile
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from app import i18n
from app.audit import service as audit
from app.challenges.service import ChallengeView
from app.db import release_locks
from app.errors import Conflict, Forbidden
from app.files import staging
from app.files import types as file_types
from app.i18n import N_
from app.proposals import attachments, queries
from app.proposals.models import QuestionKind, status_label
from app.proposals.queries import ChallengeProposals
from app.security.actor import Actor

SEPARATORS = {"comma": ",", "semicolon": ";"}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")

# (column, header message id): the headers are shown in the reader's language
COLUMNS = (
    ("proposal_id", N_("Proposal number")),
    ("startup", N_("Startup")),
    ("status", N_("Status")),
    ("receipt_number", N_("Receipt number")),
    ("version", N_("Version")),
    ("submitted_at", N_("Submitted on")),
    ("sha256", N_("SHA-256 of the content")),
    ("title", N_("Title")),
    ("summary", N_("Summary")),
    ("description", N_("The solution")),
    ("data_use", N_("Use of the challenge's data")),
    ("experimentation_plan", N_("Experimentation plan on the test site")),
    ("team", N_("Team and roles")),
    ("trl", N_("Technology readiness level")),
    ("needs", N_("What you need from the sponsor")),
    ("plan", N_("Nine-month plan")),
    ("kpis", N_("Indicators addressed")),
    ("video_url", N_("Video")),
    ("attachments", N_("Attachments")),
    ("eligibility_reason", N_("Reason for the eligibility decision")),
)


class NothingToExport(Conflict):
    """An export that would be empty."""


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run: text starting like a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(" — ".join(str(x) for x in v.values()) if isinstance(v, dict) else str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def local_time(value: datetime, timezone: str) -> str:
    """ISO 8601 in the programme's time zone, with its offset: "2027-03-31T18:00:00+01:00"."""
    return value.astimezone(ZoneInfo(timezone)).isoformat(timespec="seconds")


def _reviewable(session: Session, actor: Actor, challenge: ChallengeView) -> ChallengeProposals:
    listing = queries.challenge_proposals(session, actor, challenge)
    if not listing.reviewable:
        raise Forbidden("Proposals can be exported once the deadline has passed.")
    return listing


def export_csv(session: Session, actor: Actor, challenge: ChallengeView, *, separator: str = "comma") -> str:
    """Every submitted proposal of the challenge (last version), one row each, extra questions as columns,
    in the current language; `separator` is "comma" or "semicolon"."""
    listing = _reviewable(session, actor, challenge)
    questions = listing.proposals[0].questions if listing.proposals else []
    timezone = challenge.programme.timezone
    out = io.StringIO()
    writer = csv.writer(out, delimiter=SEPARATORS.get(separator, ","))
    headers = [i18n.gettext(header) for _, header in COLUMNS] + [q.label for q in questions]
    writer.writerow([safe_cell(h) for h in headers])
    for view in listing.proposals:
        latest = view.latest
        if latest is None:
            continue
        c = latest.content
        values: dict[str, Any] = {
            "proposal_id": view.proposal.id,
            "startup": view.startup.name,
            "status": status_label(view.status),
            "receipt_number": latest.receipt_number,
            "version": latest.number,
            "submitted_at": local_time(latest.submitted_at, timezone),
            "sha256": latest.sha256,
            "attachments": [a["name"] for a in c.get("attachments", [])],
            "eligibility_reason": view.proposal.eligibility_reason,
        }
        row = [values[name] if name in values else c.get(name) for name, _ in COLUMNS]
        for q in questions:
            if q.kind == QuestionKind.file:
                row.append([a["name"] for a in c.get("attachments", []) if a.get("question") == q.id])
            else:
                row.append(c.get("answers", {}).get(str(q.id)))
        writer.writerow([safe_cell(v) for v in row])
    audit.record(
        session,
        "proposals.exported",
        actor=actor,
        target=("challenge", challenge.challenge.id),
        format="csv",
        separator=separator,
    )
    return "\ufeff" + out.getvalue()


def export_zip(session: Session, actor: Actor, challenge: ChallengeView) -> Path:
    """A ZIP of the attachments of every submitted proposal's last version, one folder per proposal, in a
    temporary file the caller removes once sent; NothingToExport when no version has an attachment."""
    listing = _reviewable(session, actor, challenge)
    wanted = [
        (view, entry)
        for view in listing.proposals
        if view.latest is not None
        for entry in view.latest.content.get("attachments", [])
    ]
    if not wanted:
        raise NothingToExport("No submitted proposal has an attachment: there is no archive to download.")
    fd, name = tempfile.mkstemp(prefix="proposals-", suffix=".zip", dir=staging.tmp_dir())
    os.close(fd)
    path = Path(name)
    staging.remove_on_rollback(session, path)  # the audit row below may still fail to commit
    try:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            used: Counter[str] = Counter()
            for view, entry in wanted:
                attachment = next((a for a in view.attachments if a.id == entry["id"]), None)
                if attachment is None:
                    continue
                folder = f"{view.proposal.id}-{file_types.sanitise_name(view.startup.name) or 'startup'}"
                used[f"{folder}/{attachment.name}"] += 1
                n = used[f"{folder}/{attachment.name}"]
                inside = attachment.name if n == 1 else f"{n}-{attachment.name}"
                archive.write(attachments.attachment_path(attachment), f"{folder}/{inside}")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    release_locks(session)  # the archive was built in a read transaction; the audit row gets a short write one
    staging.remove_on_rollback(session, path)  # again: the commit above settled the first registration
    audit.record(session, "proposals.exported", actor=actor, target=("challenge", challenge.challenge.id), format="zip")
    return path
