"""Writes for check-ins, follow-up cases and exemptions. Times always come from the server clock."""

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from fangkong.audit.actions import AuditAction
from fangkong.audit.services import audit_record
from fangkong.health.models import (
    OPEN_STATUSES,
    TRANSITIONS,
    CaseStatus,
    Channel,
    CheckIn,
    CheckInRevision,
    Contact,
    DailyHealthAggregate,
    Exemption,
    FollowUpCase,
    FollowUpEntry,
    HealthRules,
    IdempotencyRecord,
    Quarantine,
    Symptom,
    WorkMode,
)
from fangkong.lib import clock, plausible
from fangkong.lib.db import one_or_none
from fangkong.org import selectors as org_selectors
from fangkong.org.models import FamilyMember, Person

ERR_NOT_ATTESTED = "请勾选“本人承诺以上信息真实准确”后再提交。"
ERR_WORK_MODE = "请选择今日工作方式。"
ERR_LOCKED = "今日打卡已截止，如需更正请联系本单位联络员。"
ERR_REASON_REQUIRED = "截止后更正必须填写更正原因。"
ERR_NOT_LOCKED = "打卡尚未截止，本人可直接修改，无需联络员更正。"
ERR_FAMILY_NOT_YOURS = "所选家庭成员不属于该职工。"
ERR_NOT_ALLOWED = "您无权为该人员填报。"
ERR_TRANSITION = "个案状态不能这样变更。"
ERR_NOTE_REQUIRED = "请填写跟踪记录。"
ERR_CASE_CLOSED = "该个案已结案。"
ERR_QUARANTINE_PLACE = "处于隔离或医学观察时，请填写隔离地点和开始日期。"
ERR_TEMPERATURE_REQUIRED = "请填写体温。"
ERR_TEMPERATURE_RANGE = "体温应在 34.0 至 42.5 ℃ 之间，请核对。"
ERR_CHOICE = "选项无效，请从列表中选择。"
ERR_EXEMPTION_PAST = "免打卡只能从今天或以后开始，不能补登过去的日期。"
ERR_IDEMPOTENCY_REUSED = (
    "这个 Idempotency-Key 已用于另一份内容不同的打卡，本次内容没有保存；"
    "提交新的内容请换一个新的 Idempotency-Key。"
)
ERR_RESUBMITTED = "这份打卡刚才已经提交过，修改后的内容还没有保存；请核对后再点一次“提交”。"
TEMPERATURE_MIN, TEMPERATURE_MAX = Decimal("34.0"), Decimal("42.5")
# A household is the staff member and their family: no real one comes near this.
MAX_SUBJECTS = 50


class IdempotencyKeyReused(Exception):
    """The key was first used for a different submission; nothing of this one was stored."""


ANSWER_FIELDS = (
    "temperature",
    "symptoms",
    "symptom_other",
    "contact",
    "risk_travel",
    "quarantine",
    "quarantine_place",
    "quarantine_start",
    "work_mode",
    "current_city",
    "out_of_town",
    "attested",
)


@dataclass
class Answers:
    """One subject's answers: the staff member (family_member_id None) or one family member."""

    temperature: Decimal | None
    family_member_id: int | None = None
    symptoms: list[str] = field(default_factory=list)
    symptom_other: str = ""
    contact: str = "none"
    risk_travel: bool = False
    quarantine: str = "none"
    quarantine_place: str = ""
    quarantine_start: date | None = None
    work_mode: str = ""
    current_city: str = ""
    out_of_town: bool = False
    attested: bool = False

    def as_json(self) -> dict:
        data = asdict(self)
        data["temperature"] = str(self.temperature)
        data["quarantine_start"] = (
            self.quarantine_start.isoformat() if self.quarantine_start else None
        )
        return data


def lock_time(day: date) -> datetime:
    """When a day's check-ins lock: corrections after it need a liaison and a reason."""
    return clock.day_start(day) + timedelta(minutes=settings.CHECKIN_LOCK_AFTER_MINUTES)


def is_locked(day: date) -> bool:
    return clock.now() >= lock_time(day)


def abnormal_reasons(answers: Answers, rules: HealthRules) -> list[str]:
    """The rule codes this set of answers trips (empty when normal)."""
    reasons = []
    if answers.temperature >= rules.fever_threshold:
        reasons.append("fever")
    if rules.any_symptom and answers.symptoms:
        reasons.append("symptoms")
    if rules.any_contact and answers.contact != "none":
        reasons.append("contact")
    if rules.risk_travel and answers.risk_travel:
        reasons.append("risk_travel")
    return reasons


def answer_errors(answers: Answers, *, is_staff_member: bool) -> dict[str, str]:
    """Field-level problems with one subject's answers (empty when they can be stored)."""
    errors = {}
    if answers.temperature is None:
        errors["temperature"] = ERR_TEMPERATURE_REQUIRED
    elif (
        not answers.temperature.is_finite()
        or not TEMPERATURE_MIN <= answers.temperature <= TEMPERATURE_MAX
    ):
        errors["temperature"] = ERR_TEMPERATURE_RANGE
    if not answers.attested:
        errors["attested"] = ERR_NOT_ATTESTED
    if is_staff_member and not answers.work_mode:
        errors["work_mode"] = ERR_WORK_MODE
    elif answers.work_mode and answers.work_mode not in WorkMode.values:
        errors["work_mode"] = ERR_CHOICE
    if answers.contact not in Contact.values:
        errors["contact"] = ERR_CHOICE
    if answers.quarantine not in Quarantine.values:
        errors["quarantine"] = ERR_CHOICE
    elif answers.quarantine != Quarantine.NONE and not (
        answers.quarantine_place and answers.quarantine_start
    ):
        errors["quarantine_place"] = ERR_QUARANTINE_PLACE
    if answers.quarantine_start:
        # A quarantine that is under way began on or before today, and not years ago.
        problem = plausible.date_problem(answers.quarantine_start, plausible.FORM, future_days=0)
        if problem:
            errors["quarantine_start"] = problem
    unknown = set(answers.symptoms) - set(Symptom.values)
    if unknown:
        errors["symptoms"] = f"未知症状：{', '.join(sorted(unknown))}"
    return errors


def _validate(answers: Answers, *, is_staff_member: bool) -> None:
    errors = answer_errors(answers, is_staff_member=is_staff_member)
    if errors:
        raise ValidationError(errors)


def _open_or_attach_case(*, actor, checkin: CheckIn) -> FollowUpCase:
    lookup = (
        {"family_member_id": checkin.family_member_id}
        if checkin.family_member_id
        else {"person_id": checkin.person_id, "family_member__isnull": True}
    )
    case = one_or_none(FollowUpCase.objects.filter(closed_at__isnull=True, **lookup))
    if case is not None:
        return case
    case = FollowUpCase.objects.create(
        person_id=checkin.person_id,
        family_member_id=checkin.family_member_id,
        unit_id=checkin.unit_id,
        opened_at=clock.now(),
        opened_from=checkin,
        reasons=checkin.abnormal_reasons,
    )
    FollowUpEntry.objects.create(
        case=case,
        at=case.opened_at,
        author=None,
        to_status=CaseStatus.OBSERVING,
        note="打卡异常自动建档：" + "、".join(checkin.abnormal_reasons),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CASE_OPEN,
        obj=case,
        new={"reasons": checkin.abnormal_reasons},
    )
    return case


def _write(
    *,
    actor,
    person: Person,
    answers: Answers,
    channel: str,
    day: date,
    rules: HealthRules,
    correction_reason: str = "",
) -> CheckIn:
    """Create today's check-in for one subject, or keep the old answers as a revision and update."""
    now = clock.now()
    subject = (
        {"family_member_id": answers.family_member_id}
        if answers.family_member_id
        else {"person": person, "family_member__isnull": True}
    )
    values = {f: getattr(answers, f) for f in ANSWER_FIELDS}
    if answers.family_member_id:
        values["work_mode"] = ""
    reasons = abnormal_reasons(answers, rules)
    # Insert first (the usual case); the unique constraint tells us when it is a correction.
    existing = None
    try:
        with transaction.atomic():
            checkin = CheckIn.objects.create(
                person=person,
                family_member_id=answers.family_member_id,
                day=day,
                unit_id=person.unit_id,
                abnormal=bool(reasons),
                abnormal_reasons=reasons,
                channel=channel,
                entered_by=actor,
                submitted_at=now,
                updated_at=now,
                **values,
            )
    except IntegrityError:
        existing = CheckIn.objects.select_for_update().get(day=day, **subject)
    if existing is not None:
        if is_locked(day) and not correction_reason:
            raise ValidationError(ERR_LOCKED)
        CheckInRevision.objects.create(
            checkin=existing,
            version=existing.version,
            answers={f: _jsonable(getattr(existing, f)) for f in ANSWER_FIELDS},
            channel=existing.channel,
            entered_by=existing.entered_by,
            submitted_at=existing.updated_at,
            superseded_at=now,
        )
        for key, value in values.items():
            setattr(existing, key, value)
        existing.abnormal, existing.abnormal_reasons = bool(reasons), reasons
        existing.channel, existing.entered_by, existing.updated_at = channel, actor, now
        existing.version += 1
        if correction_reason:
            existing.corrected_after_lock, existing.correction_reason = True, correction_reason
        existing.full_clean()
        existing.save()
        checkin = existing
    if reasons:
        _open_or_attach_case(actor=actor, checkin=checkin)
    return checkin


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _result(day: date, checkins: list[CheckIn]) -> dict:
    return {
        "day": day.isoformat(),
        "checkins": [
            {
                "id": c.pk,
                "family_member_id": c.family_member_id,
                "version": c.version,
                "abnormal": c.abnormal,
                "submitted_at": c.submitted_at.isoformat(),
                "updated_at": c.updated_at.isoformat(),
            }
            for c in checkins
        ],
    }


def request_hash(person: Person, answers: list[Answers]) -> str:
    """SHA-256 of the submission's canonical form (who, and every subject's answers)."""
    subjects = [a.as_json() | {"symptoms": sorted(a.symptoms)} for a in answers]
    body = {"person": person.pk, "subjects": subjects}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(actor, key: str, digest: str) -> dict | None:
    """The first answer to `key`, if the key was used; IdempotencyKeyReused if for other content."""
    record = one_or_none(IdempotencyRecord.objects.filter(user=actor, key=key))
    if record is None:
        return None
    # Records written before hashes were kept have none: they replay as they always did.
    if record.request_hash and record.request_hash != digest:
        raise IdempotencyKeyReused(key)
    return record.result


def checkin_submit(
    *,
    actor,
    person: Person,
    answers: list[Answers],
    channel: str,
    idempotency_key: str | None = None,
) -> dict:
    """Record today's check-in for a staff member and any of their family in one go.

    The day and every timestamp are the server's. Replaying an idempotency key with the same
    content returns the first result and leaves nothing behind; the same key with different
    content raises IdempotencyKeyReused (the new content would otherwise be silently dropped).
    Validation happens before the write transaction so the database write lock (SQLite) is held
    only for the inserts; the common path is insert-only.
    """
    key = idempotency_key[:100] if idempotency_key else None
    digest = request_hash(person, answers)
    if person.user_id != actor.pk:
        if not org_selectors.can(actor, org_selectors.CAP_REPORT, person.unit):
            raise PermissionDenied(ERR_NOT_ALLOWED)
        channel = Channel.PROXY
    if key:
        first = _replay(actor, key, digest)
        if first is not None:
            return first
    if any(a.family_member_id is not None for a in answers):
        # Only the members expected today: one added today joins tomorrow, one moved out leaves.
        family_ids = set(person.family.expected_on(clock.today()).values_list("id", flat=True))
        if any(a.family_member_id not in family_ids | {None} for a in answers):
            raise ValidationError({"family_member_id": ERR_FAMILY_NOT_YOURS})
    for a in answers:
        _validate(a, is_staff_member=a.family_member_id is None)
    day, rules = clock.today(), HealthRules.current()
    try:
        with transaction.atomic():
            checkins = [
                _write(actor=actor, person=person, answers=a, channel=channel, day=day, rules=rules)
                for a in answers
            ]
            audit_record(
                actor=actor,
                action=AuditAction.CHECKIN_SUBMIT,
                obj=person,
                new={
                    "day": day.isoformat(),
                    "subjects": len(checkins),
                    "channel": channel,
                    "abnormal": sum(c.abnormal for c in checkins),
                    "versions": [c.version for c in checkins],
                },
            )
            result = _result(day, checkins)
            if key:
                # Inserted last: a concurrent replay of the same key fails here and rolls back.
                IdempotencyRecord.objects.create(
                    user=actor,
                    key=key,
                    result=result,
                    request_hash=digest,
                    created_at=clock.now(),
                )
    except (IntegrityError, ValidationError):
        # A concurrent replay of a key answered meanwhile: the key insert (or the lock) stopped
        # this one, and everything it wrote rolled back; hand back the first answer.
        if key:
            first = _replay(actor, key, digest)
            if first is not None:
                return first
        raise
    return result


@transaction.atomic
def checkin_correct(*, actor, checkin: CheckIn, answers: Answers, reason: str) -> CheckIn:
    """After the lock, a liaison corrects a check-in; the old answers stay and the reason shows."""
    if not org_selectors.can(actor, org_selectors.CAP_REPORT, checkin.unit):
        raise PermissionDenied(ERR_NOT_ALLOWED)
    if not is_locked(checkin.day):
        raise ValidationError(ERR_NOT_LOCKED)
    if not reason.strip():
        raise ValidationError({"reason": ERR_REASON_REQUIRED})
    answers.family_member_id = checkin.family_member_id
    _validate(answers, is_staff_member=checkin.family_member_id is None)
    updated = _write(
        actor=actor,
        person=checkin.person,
        answers=answers,
        channel=Channel.PROXY,
        day=checkin.day,
        rules=HealthRules.current(),
        correction_reason=reason.strip(),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CHECKIN_CORRECT,
        obj=updated,
        new={"version": updated.version, "reason": reason.strip()},
    )
    return updated


@transaction.atomic
def case_update(*, actor, case: FollowUpCase, to_status: str, note: str) -> FollowUpCase:
    """Add a note to a case and optionally move it along its lifecycle; closing needs a note too."""
    case = FollowUpCase.objects.select_for_update().get(pk=case.pk)
    if not org_selectors.can(actor, org_selectors.CAP_REPORT, case.unit):
        raise PermissionDenied(ERR_NOT_ALLOWED)
    if not case.is_open:
        raise ValidationError(ERR_CASE_CLOSED)
    if not note.strip():
        raise ValidationError({"note": ERR_NOTE_REQUIRED})
    if to_status != case.status and to_status not in TRANSITIONS.get(case.status, set()):
        raise ValidationError({"to_status": ERR_TRANSITION})
    now = clock.now()
    FollowUpEntry.objects.create(
        case=case,
        at=now,
        author=actor,
        from_status=case.status,
        to_status=to_status,
        note=note.strip(),
    )
    old = case.status
    case.status = to_status
    if to_status not in OPEN_STATUSES:
        case.closed_at = now
    case.save(update_fields=["status", "closed_at"])
    audit_record(
        actor=actor,
        action=AuditAction.CASE_UPDATE,
        obj=case,
        old={"status": old},
        new={"status": to_status},
    )
    return case


@transaction.atomic
def exemption_add(
    *, actor, person: Person, kind: str, start: date, end: date | None = None, note: str = ""
) -> Exemption:
    if not org_selectors.can(actor, org_selectors.CAP_REPORT, person.unit):
        raise PermissionDenied(ERR_NOT_ALLOWED)
    if start < clock.today():
        # A back-dated exemption would turn past missed check-ins into "exempt" after the fact.
        raise ValidationError({"start": ERR_EXEMPTION_PAST})
    for name, value in (("start", start), ("end", end)):
        problem = plausible.date_problem(value, plausible.FORM) if value else None
        if problem:
            raise ValidationError({name: problem})
    exemption = Exemption(
        person=person, kind=kind, start=start, end=end, note=note, created_by=actor
    )
    exemption.full_clean()
    exemption.save()
    audit_record(
        actor=actor,
        action=AuditAction.EXEMPTION_ADD,
        obj=exemption,
        new={
            "person": person.pk,
            "kind": kind,
            "start": start.isoformat(),
            "end": end.isoformat() if end else None,
        },
    )
    return exemption


@transaction.atomic
def checkins_purge(*, actor, before: date) -> dict:
    """Fold check-ins older than `before` into per-unit daily totals, then delete them."""
    old = CheckIn.objects.filter(day__lt=before)
    rules = HealthRules.current()
    fever = Q(temperature__gte=rules.fever_threshold)
    staff, family = Q(family_member__isnull=True), Q(family_member__isnull=False)
    totals = old.values("unit_id", "day").annotate(
        staff_checked=Count("id", filter=staff),
        family_checked=Count("id", filter=family),
        staff_abnormal=Count("id", filter=staff & Q(abnormal=True)),
        family_abnormal=Count("id", filter=family & Q(abnormal=True)),
        staff_fever=Count("id", filter=staff & fever),
        family_fever=Count("id", filter=family & fever),
    )
    aggregates = 0
    for row in totals:
        DailyHealthAggregate.objects.update_or_create(
            unit_id=row.pop("unit_id"), day=row.pop("day"), defaults=row
        )
        aggregates += 1
    # Cases keep their history but lose the link to the purged check-in.
    FollowUpCase.objects.filter(opened_from__in=old).update(opened_from=None)
    CheckInRevision.objects.filter(checkin__in=old).delete()
    deleted = old.delete()[1].get("health.CheckIn", 0)
    IdempotencyRecord.objects.filter(created_at__lt=clock.day_start(before)).delete()
    audit_record(
        actor=actor,
        action=AuditAction.CHECKIN_PURGE,
        new={"before": before.isoformat(), "deleted": deleted, "aggregates": aggregates},
    )
    return {"deleted": deleted, "aggregates": aggregates}


def family_of(person: Person, day: date) -> list[FamilyMember]:
    """The household members whose check-in is due on `day`."""
    return list(person.family.expected_on(day).order_by("id"))
