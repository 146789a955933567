"""Writes for unit daily reports: submit (or zero report), correct, review, unlock, mark signals.

Every time is the server's. A submitted report is never changed: corrections add a version, each
chained to the unit's previous version by a SHA-256 hash, and the `CurrentReport` pointer moves.
"""

import hashlib
import json
from datetime import UTC, date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from fangkong.audit.actions import AuditAction
from fangkong.audit.services import audit_record
from fangkong.lib import clock
from fangkong.lib.db import one_or_none
from fangkong.org import selectors as org
from fangkong.org.models import OrgUnit, ReportingLine
from fangkong.reports import schedule, selectors
from fangkong.reports.models import (
    CurrentReport,
    Report,
    ReportForm,
    ReportKind,
    Review,
    ReviewAction,
    SignalReview,
    Unlock,
)

# The audit action of each review decision.
REVIEW_ACTIONS = {
    ReviewAction.ACCEPT: AuditAction.REPORT_ACCEPT,
    ReviewAction.RETURN: AuditAction.REPORT_RETURN,
}

ERR_NOT_EXPECTED = "该单位当日无需报送此报表。"
ERR_FUTURE = "不能提前报送以后日期的报告。"
ERR_LOCKED = "该日报告已锁定，如需补报或更正，请联系上级协调员解锁。"
ERR_REASON = "更正已报送的报告必须填写更正原因。"
ERR_EXPLAIN = "填报数与打卡数据不一致，请说明原因。"
ERR_VALUE = "请填写不小于 0 的整数。"
ERR_OVER_ROSTER = (
    "不能超过本单位（含下级单位）当日在册的职工和家属人数 {n} 人；如人员名册不全，请先更新名册。"
)
ERR_OVER_CEILING = "数字过大，不能超过 {n}。"
ERR_NOT_ALLOWED = "您无权进行此操作。"
ERR_NOT_CURRENT = "只能审核最新版本的报告。"
ERR_RETURN_COMMENT = "退回时请填写意见，告诉填报单位需要修改什么。"
ERR_CHILDREN_MISSING = "下级单位尚有缺报，通过前请说明原因。"
ERR_UNLOCK_NOT_LOCKED = "该日报告尚未锁定，无需解锁。"
ERR_NOTE = "请填写核查情况。"


@transaction.atomic
def form_create(
    *,
    actor,
    code: str,
    name: str,
    root: OrgUnit,
    level_codes: list[str],
    active_from: date,
    deadline_minutes: int = 600,
    lock_minutes: int = 1440,
) -> ReportForm:
    """Assign a daily form to a subtree: units of the given levels there owe it every day."""
    from fangkong.org.models import UnitLevel

    form = ReportForm(
        code=code,
        name=name,
        root=root,
        active_from=active_from,
        deadline_minutes=deadline_minutes,
        lock_minutes=lock_minutes,
    )
    form.full_clean()
    form.save()
    form.levels.set(UnitLevel.objects.filter(code__in=level_codes))
    audit_record(
        actor=actor,
        action=AuditAction.REPORT_FORM_CREATE,
        obj=form,
        new={"code": code, "root": root.code, "levels": level_codes},
    )
    return form


def active_unlock(form: ReportForm, unit: OrgUnit, day: date) -> Unlock | None:
    now = clock.now()
    return one_or_none(
        Unlock.objects.filter(
            form=form, unit=unit, day=day, granted_at__lte=now, expires_at__gt=now
        )
    )


def _utc(moment) -> str:
    # Hash instants in UTC: the database hands them back in UTC whatever zone they were written in.
    return moment.astimezone(UTC).isoformat()


def canonical(report: Report) -> str:
    """The exact bytes the hash covers: every content field of the version and its predecessor's hash."""
    return json.dumps(
        {
            "form": report.form_id,
            "form_version": report.form_version,
            "unit": report.unit_id,
            "day": report.day.isoformat(),
            "version": report.version,
            "kind": report.kind,
            "values": report.values,
            "derived": report.derived,
            "explanation": report.explanation,
            "narrative": report.narrative,
            "measures": report.measures,
            "correction_reason": report.correction_reason,
            "submitted_at": _utc(report.submitted_at),
            "submitted_by": report.submitted_by_id,
            "deadline_at": _utc(report.deadline_at),
            "lock_at": _utc(report.lock_at),
            "prev_hash": report.prev_hash,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def compute_hash(report: Report) -> str:
    return hashlib.sha256(canonical(report).encode()).hexdigest()


def _clean_values(form: ReportForm, values: dict, *, roster: int) -> dict[str, int]:
    """Whole numbers from 0 up to the people the unit has on its roster that day (every figure
    counts people), and never beyond the absolute ceiling."""
    ceiling = settings.REPORT_COUNT_CEILING
    cleaned, errors = {}, {}
    for key in form.field_keys:
        raw = values.get(key, 0)
        try:
            number = int(raw)
        except (TypeError, ValueError):
            number = -1
        if number < 0 or str(raw).strip() not in (str(number), ""):
            errors[key] = ERR_VALUE
        elif number > ceiling:
            errors[key] = ERR_OVER_CEILING.format(n=ceiling)
        elif number > roster:
            errors[key] = ERR_OVER_ROSTER.format(n=roster)
        cleaned[key] = max(number, 0)
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def report_submit(
    *,
    actor,
    form: ReportForm,
    unit: OrgUnit,
    day: date,
    kind: str,
    values: dict | None = None,
    explanation: str = "",
    narrative: str = "",
    measures: str = "",
    correction_reason: str = "",
) -> Report:
    """Submit a daily report or a zero report (never inferred from blanks) for a unit and day."""
    if not org.can(actor, org.CAP_REPORT, unit):
        raise PermissionDenied(ERR_NOT_ALLOWED)
    now = clock.now()
    if day > clock.today():
        raise ValidationError(ERR_FUTURE)
    due = schedule.due(form, unit, day)
    if not due.expected:
        raise ValidationError(ERR_NOT_EXPECTED)
    # Serialise versions of this unit's chain.
    OrgUnit.objects.select_for_update().filter(pk=unit.pk).exists()
    deadline_at, lock_at = due.deadline_at, due.lock_at
    current = one_or_none(
        CurrentReport.objects.select_related("report").filter(form=form, unit=unit, day=day)
    )
    unlock = None
    if now >= lock_at:
        unlock = active_unlock(form, unit, day)
        if unlock is None:
            raise ValidationError(ERR_LOCKED)
    if current is not None and not correction_reason.strip():
        raise ValidationError({"correction_reason": ERR_REASON})
    derived = selectors.derived_for_unit(form, unit, day)
    if kind == ReportKind.ZERO:
        cleaned = dict.fromkeys(form.field_keys, 0)
    else:
        kind = ReportKind.DAILY
        cleaned = _clean_values(form, values or {}, roster=selectors.roster_size(unit, day))
    differs = any(
        cleaned.get(k, 0) != derived.get(f.get("derive", ""), 0)
        for f in form.fields
        for k in [f["key"]]
        if f.get("derive")
    )
    if differs and not explanation.strip():
        raise ValidationError({"explanation": ERR_EXPLAIN})
    previous = Report.objects.filter(form=form, unit=unit).order_by("-id").first()
    report = Report(
        form=form,
        form_version=form.version,
        unit=unit,
        day=day,
        version=(current.report.version + 1) if current else 1,
        kind=kind,
        values=cleaned,
        derived={f["key"]: derived.get(f.get("derive", ""), 0) for f in form.fields},
        explanation=explanation.strip(),
        narrative=narrative.strip(),
        measures=measures.strip(),
        correction_reason=correction_reason.strip(),
        submitted_at=now,
        submitted_by=actor,
        deadline_at=deadline_at,
        lock_at=lock_at,
        unlock=unlock,
        prev_hash=previous.hash if previous else "",
    )
    report.hash = compute_hash(report)
    report.save()
    if current is None:
        CurrentReport.objects.create(
            form=form,
            unit=unit,
            day=day,
            report=report,
            first_submitted_at=now,
            first_deadline_at=deadline_at,
        )
    else:
        CurrentReport.objects.filter(pk=current.pk).update(report=report)
    audit_record(
        actor=actor,
        action=AuditAction.REPORT_SUBMIT if current is None else AuditAction.REPORT_CORRECT,
        obj=report,
        old={"version": current.report.version, "values": current.report.values}
        if current
        else None,
        new={"version": report.version, "kind": kind, "values": cleaned, "hash": report.hash},
        detail=correction_reason.strip(),
    )
    return report


def reviewer_units_for(actor, unit: OrgUnit) -> list[OrgUnit]:
    """The superiors (tree parent and extra reporting lines) on whose behalf `actor` may review."""
    candidates = [unit.parent] if unit.parent_id else []
    candidates += [
        line.superior for line in ReportingLine.objects.filter(unit=unit).select_related("superior")
    ]
    return [c for c in candidates if c is not None and org.can(actor, org.CAP_CHASE, c)]


@transaction.atomic
def report_review(
    *,
    actor,
    report: Report,
    action: str,
    comment: str = "",
    missing_children_reason: str = "",
    reviewer_unit: OrgUnit | None = None,
) -> Review:
    """Accept a report or return it with a comment, for the tree parent or an extra superior."""
    allowed = reviewer_units_for(actor, report.unit)
    if reviewer_unit is None and allowed:
        reviewer_unit = allowed[0]
    if reviewer_unit is None or reviewer_unit not in allowed:
        raise PermissionDenied(ERR_NOT_ALLOWED)
    current = CurrentReport.objects.filter(form=report.form, unit=report.unit, day=report.day)
    if not current.filter(report=report).exists():
        raise ValidationError(ERR_NOT_CURRENT)
    if action == ReviewAction.RETURN and not comment.strip():
        raise ValidationError({"comment": ERR_RETURN_COMMENT})
    if action == ReviewAction.ACCEPT:
        missing = selectors.missing_children(report.form, report.unit, report.day)
        if missing and not missing_children_reason.strip():
            raise ValidationError({"missing_children_reason": ERR_CHILDREN_MISSING})
    review = Review.objects.create(
        report=report,
        reviewer_unit=reviewer_unit,
        action=action,
        comment=comment.strip(),
        missing_children_reason=missing_children_reason.strip(),
        at=clock.now(),
        by=actor,
    )
    audit_record(
        actor=actor,
        action=REVIEW_ACTIONS[action],
        obj=report,
        new={
            "reviewer": reviewer_unit.code,
            "comment": comment.strip(),
            "missing_children_reason": missing_children_reason.strip(),
        },
    )
    return review


@transaction.atomic
def unlock_grant(
    *, actor, form: ReportForm, unit: OrgUnit, day: date, reason: str, hours: int = 24
) -> Unlock:
    """A coordinator above the unit lets it correct or submit a locked day for a limited time."""
    if not unit.parent_id or not org.can(actor, org.CAP_CHASE, unit.parent):
        raise PermissionDenied(ERR_NOT_ALLOWED)
    if not reason.strip():
        raise ValidationError({"reason": "请填写解锁原因。"})
    lock_at = schedule.due(form, unit, day).lock_at
    now = clock.now()
    if now < lock_at:
        raise ValidationError(ERR_UNLOCK_NOT_LOCKED)
    unlock = Unlock.objects.create(
        form=form,
        unit=unit,
        day=day,
        reason=reason.strip(),
        granted_at=now,
        expires_at=now + timedelta(hours=hours),
        granted_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.REPORT_UNLOCK,
        obj=unlock,
        new={"unit": unit.code, "day": day.isoformat(), "hours": hours},
        detail=reason.strip(),
    )
    return unlock


@transaction.atomic
def signal_mark_reviewed(
    *, actor, form: ReportForm, unit: OrgUnit, day: date, signal: str, note: str
) -> SignalReview:
    if not org.can(actor, org.CAP_CHASE, unit):
        raise PermissionDenied(ERR_NOT_ALLOWED)
    if not note.strip():
        raise ValidationError({"note": ERR_NOTE})
    review = SignalReview.objects.create(
        form=form, unit=unit, day=day, signal=signal, note=note.strip(), at=clock.now(), by=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.SIGNAL_REVIEW,
        obj=review,
        new={"unit": unit.code, "day": day.isoformat(), "signal": signal},
    )
    return review


def verify_chains(form: ReportForm | None = None) -> list[dict]:
    """Recompute every hash; return the first broken link of each broken chain (unit, day, why)."""
    qs = Report.objects.select_related("unit").order_by("form_id", "unit_id", "id")
    if form is not None:
        qs = qs.filter(form=form)
    broken, last = [], {}
    bad_chains = set()
    for r in qs.iterator(chunk_size=2000):
        chain = (r.form_id, r.unit_id)
        if chain in bad_chains:
            continue
        expected_prev = last.get(chain, "")
        why = None
        if r.prev_hash != expected_prev:
            why = "prev_hash"
        elif compute_hash(r) != r.hash:
            why = "content"
        if why:
            bad_chains.add(chain)
            broken.append(
                {
                    "form": r.form_id,
                    "unit": r.unit.code,
                    "unit_name": r.unit.name,
                    "day": r.day,
                    "version": r.version,
                    "report_id": r.pk,
                    "why": why,
                }
            )
        last[chain] = r.hash
    return broken
