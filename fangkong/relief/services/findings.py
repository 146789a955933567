"""Relief writes: findings added, decided and annotated, each write idempotent."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.audit.actions import AuditAction
from fangkong.audit.services import audit_record
from fangkong.lib import clock
from fangkong.relief.ledger import store
from fangkong.relief.models import (
    AuditProject,
    Evidence,
    Finding,
    FindingNote,
    FindingStatus,
    SourceFile,
)

# --- Findings. ---

# The event of each review decision, declared in the action registry.
DECISION_ACTIONS = {
    FindingStatus.OPEN: AuditAction.RELIEF_FINDING_OPEN,
    FindingStatus.CONFIRMED: AuditAction.RELIEF_FINDING_CONFIRMED,
    FindingStatus.DISMISSED: AuditAction.RELIEF_FINDING_DISMISSED,
}


# A note repeated by its author within this many seconds is the same submit twice.
REPLAY_SECONDS = 120
ERR_REASON = N_("排除问题必须填写理由。")
ERR_EVIDENCE = N_("找不到该证据行：{file} 第 {row} 行。")


@transaction.atomic
def finding_add(
    *,
    actor,
    project: AuditProject,
    title: str,
    severity: str,
    description: str = "",
    amount_fen: int | None = None,
    quantity: int | None = None,
    rule: str = "",
    test_id: str = "",
    evidence: list[dict] | None = None,
    fingerprint: str = "",
    run=None,
    idempotent: bool = False,
) -> Finding:
    """Record a finding with its evidence rows [{source_id, sheet, row_no, row_id?, note?}].

    `idempotent`: the fingerprint is the submission's key (a form's token), kept like the
    check-in API's idempotency records: a replay (a double-clicked submit) gets the finding the
    key first made, marked `replayed`, and writes nothing. The project row serialises the two.
    """
    if idempotent and fingerprint:
        AuditProject.objects.select_for_update().filter(pk=project.pk).first()
        done = project.findings.filter(fingerprint=fingerprint).first()
        if done is not None:
            done.replayed = True
            return done
    finding = Finding.objects.create(
        project=project,
        test_id=test_id,
        title=title.strip(),
        description=description,
        severity=severity,
        amount_fen=amount_fen,
        quantity=quantity,
        rule=rule,
        fingerprint=fingerprint,
        run=run,
        created_by=actor,
    )
    files = set(SourceFile.objects.filter(project=project).values_list("id", flat=True))
    rows = []
    for ev in evidence or []:
        if ev["source_id"] not in files:
            raise ValidationError(_(ERR_EVIDENCE).format(file=ev["source_id"], row=ev["row_no"]))
        rows.append(
            Evidence(
                finding=finding,
                source_id=ev["source_id"],
                sheet=ev.get("sheet", ""),
                row_no=ev["row_no"],
                row_id=ev.get("row_id"),
                note=ev.get("note", "")[:300],
            )
        )
    Evidence.objects.bulk_create(rows)
    audit_record(
        actor=actor,
        action="relief.finding.add",
        obj=finding,
        new={"title": finding.title, "test": test_id, "evidence": len(rows)},
    )
    return finding


@transaction.atomic
def finding_decide(*, actor, finding: Finding, status: str, reason: str = "") -> Finding:
    """Confirm a finding, or dismiss it with a reason; reopening is allowed and recorded.

    Idempotent: a decision the finding already carries (a double-clicked button) changes nothing
    and comes back marked `replayed`; the finding's row serialises the two requests."""
    if status == FindingStatus.DISMISSED and not reason.strip():
        raise ValidationError({"reason": _(ERR_REASON)})
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if finding.status == status and (
        status != FindingStatus.DISMISSED or finding.reason == reason.strip()
    ):
        finding.replayed = True
        return finding
    old = {"status": finding.status}
    finding.status = status
    finding.reason = reason.strip() if status == FindingStatus.DISMISSED else ""
    finding.decided_by = actor if status != FindingStatus.OPEN else None
    finding.decided_at = clock.now() if status != FindingStatus.OPEN else None
    finding.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        action=DECISION_ACTIONS[status],
        obj=finding,
        old=old,
        new={"status": status, "reason": finding.reason},
    )
    return finding


@transaction.atomic
def finding_annotate(*, actor, finding: Finding, text: str) -> FindingNote:
    """Add a note. The same words from the same person within REPLAY_SECONDS are a double-clicked
    submit: the earlier note comes back marked `replayed` (the finding's row serialises them)."""
    Finding.objects.select_for_update().filter(pk=finding.pk).first()
    last = finding.notes.order_by("-created_at", "-id").first()
    if (
        last is not None
        and last.author_id == actor.pk
        and last.text == text.strip()
        and (clock.now() - last.created_at).total_seconds() < REPLAY_SECONDS
    ):
        last.replayed = True
        return last
    note = FindingNote.objects.create(finding=finding, author=actor, text=text.strip())
    audit_record(
        actor=actor, action="relief.finding.note", obj=finding, new={"text": note.text[:200]}
    )
    return note


def evidence_for_rows(project: AuditProject, row_ids: list[int]) -> list[dict]:
    """Evidence dicts (file, sheet, row) for ledger rows named by row_id."""
    if not row_ids:
        return []
    with store.project_db(project.pk) as con:
        ids = ", ".join(str(int(r)) for r in row_ids)
        found = con.execute(
            f"SELECT row_id, file_id, sheet, row_no FROM raw_entries WHERE row_id IN ({ids})"
        ).fetchall()  # noqa: S608
    return [{"row_id": r[0], "source_id": r[1], "sheet": r[2], "row_no": r[3]} for r in found]
