"""Writes to the org tree and the roster. Keyword-only, atomic, each with its audit event."""

import hashlib
from collections.abc import Iterable
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.audit.actions import AuditAction
from fangkong.audit.services import audit_record, audit_record_many, diff
from fangkong.lib import clock, crypto, idcard
from fangkong.lib.masking import mask_id_number, mask_mobile, mask_username
from fangkong.org import roster, selectors
from fangkong.org.models import (
    SEGMENT,
    SINGLE_SEAT_ROLES,
    FamilyMember,
    LeadingGroupSeat,
    OrgUnit,
    Person,
    Rank,
    ReportingLine,
    RoleAssignment,
    RosterUpload,
    UnitLevel,
)

ERR_PARENT_CYCLE = "不能把单位移动到它自己或它的下级单位之下。"
ERR_ID_INVALID = "身份证号格式或校验位不正确，请核对后重新输入。"
ERR_ID_DUPLICATE = "该身份证号已登记在其他人员名下。"
ERR_LIAISON_OUTSIDE = "联络员必须是本单位或其下级单位的在职人员。"
ERR_RESPONSIBLE_OUTSIDE = "第一责任人必须是本单位或其下级单位的在职人员。"


def _segment(pk: int) -> str:
    return str(pk).zfill(SEGMENT)


def unit_snapshot(unit: OrgUnit) -> dict:
    return {
        "code": unit.code,
        "name": unit.name,
        "short_name": unit.short_name,
        "level": unit.level.code,
        "parent": unit.parent.code if unit.parent_id else None,
        "opened_on": unit.opened_on.isoformat() if unit.opened_on else None,
        "closed_on": unit.closed_on.isoformat() if unit.closed_on else None,
        "first_responsible": unit.first_responsible_id,
    }


@transaction.atomic
def unit_create(
    *,
    actor,
    code: str,
    name: str,
    level: UnitLevel,
    parent: OrgUnit | None = None,
    short_name: str = "",
    opened_on: date | None = None,
    closed_on: date | None = None,
    sort_order: int = 0,
) -> OrgUnit:
    """Create a unit under `parent` (or as a root) and write its materialised path."""
    unit = OrgUnit(
        code=code,
        name=name,
        short_name=short_name,
        level=level,
        parent=parent,
        opened_on=opened_on,
        closed_on=closed_on,
        sort_order=sort_order,
        path="pending",
    )
    unit.full_clean(exclude=["path"])
    unit.save()
    unit.path = (parent.path if parent else "") + _segment(unit.pk)
    unit.depth = len(unit.path) // SEGMENT
    OrgUnit.objects.filter(pk=unit.pk).update(path=unit.path, depth=unit.depth)
    audit_record(actor=actor, action=AuditAction.UNIT_CREATE, obj=unit, new=unit_snapshot(unit))
    return unit


@transaction.atomic
def unit_update(*, actor, unit: OrgUnit, **fields) -> OrgUnit:
    """Change a unit's attributes; a new parent moves the whole subtree in one UPDATE."""
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    before = unit_snapshot(unit)
    new_parent = fields.pop("parent", unit.parent)
    for key, value in fields.items():
        setattr(unit, key, value)
    moving = (new_parent.pk if new_parent else None) != unit.parent_id
    if moving and new_parent is not None and new_parent.path.startswith(unit.path):
        raise ValidationError({"parent": ERR_PARENT_CYCLE})
    unit.parent = new_parent
    unit.updated_at = clock.now()
    # A code from before the code rule (models.ERR_UNIT_CODE) is checked only when it changes,
    # so such a unit can still be renamed or moved.
    unit.full_clean(exclude=["path"] if "code" in fields else ["path", "code"])
    unit.save()
    if moving:
        old_path = unit.path
        new_path = (new_parent.path if new_parent else "") + _segment(unit.pk)
        # Rewrite the prefix of every descendant (and the unit itself) in one statement.
        OrgUnit.objects.subtree_of(unit).update(
            path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1)),
            depth=F("depth") + (len(new_path) - len(old_path)) // SEGMENT,
        )
        unit.refresh_from_db()
    old, new = diff(before, unit_snapshot(unit))
    if new:
        audit_record(actor=actor, action=AuditAction.UNIT_UPDATE, obj=unit, old=old, new=new)
    return unit


def _in_subtree(person: Person, unit: OrgUnit) -> bool:
    return person.unit.path.startswith(unit.path)


@transaction.atomic
def unit_set_responsibles(
    *, actor, unit: OrgUnit, first_responsible: Person | None, liaisons: list[Person]
) -> OrgUnit:
    """Name the unit's first responsible person (第一责任人) and liaisons (联络员)."""
    if first_responsible is not None and not _in_subtree(first_responsible, unit):
        raise ValidationError({"first_responsible": ERR_RESPONSIBLE_OUTSIDE})
    for p in liaisons:
        if not _in_subtree(p, unit):
            raise ValidationError({"liaisons": ERR_LIAISON_OUTSIDE})
    old = {
        "first_responsible": unit.first_responsible_id,
        "liaisons": sorted(unit.liaisons.values_list("id", flat=True)),
    }
    unit.first_responsible = first_responsible
    unit.updated_at = clock.now()
    unit.save(update_fields=["first_responsible", "updated_at"])
    unit.liaisons.set(liaisons)
    new = {
        "first_responsible": first_responsible.pk if first_responsible else None,
        "liaisons": sorted(p.pk for p in liaisons),
    }
    audit_record(actor=actor, action=AuditAction.UNIT_RESPONSIBLES, obj=unit, old=old, new=new)
    return unit


@transaction.atomic
def reporting_line_add(
    *, actor, unit: OrgUnit, superior: OrgUnit, name: str = "", active_from: date | None = None
) -> ReportingLine:
    """Let `unit` also report to `superior`, a node outside its own branch."""
    line = ReportingLine(unit=unit, superior=superior, name=name, active_from=active_from)
    line.full_clean()
    line.save()
    audit_record(
        actor=actor,
        action=AuditAction.REPORTING_LINE_ADD,
        obj=line,
        new={"unit": unit.code, "superior": superior.code, "name": name},
    )
    return line


# --- The leading group (领导小组): dated seats, managed by the unit's coordinator or liaison. ---

ERR_GROUP_NOT_ALLOWED = "只有本单位联络员或上级协调员可以调整领导小组。"
ERR_GROUP_PERSON_OUTSIDE = "领导小组成员必须是本单位或其下级单位的在职人员。"
ERR_GROUP_DATE_WINDOW = "日期应在一年前至一个月后之间，请核对。"
ERR_GROUP_BEFORE_CURRENT = (
    "起始日期须晚于现任人员的起始日期（及已卸任人员的截止日期），历史记录不能覆盖。"
)
ERR_GROUP_SAME_SEAT = "此人已担任该职务，无需重复任命。"
ERR_GROUP_ALREADY_ENDED = "该任职已结束。"
ERR_GROUP_END_BEFORE_START = "截止日期不能早于起始日期。"
# Appointments may be recorded late (a group set up last winter) or announced a little ahead.
GROUP_PAST_DAYS, GROUP_FUTURE_DAYS = 366, 31


def _group_day_ok(day: date) -> bool:
    today = clock.today()
    return (
        today - timedelta(days=GROUP_PAST_DAYS) <= day <= today + timedelta(days=GROUP_FUTURE_DAYS)
    )


def seat_snapshot(seat: LeadingGroupSeat) -> dict:
    return {
        "unit": seat.unit.code,
        "role": seat.role,
        "person": seat.person_id,
        "duty": seat.duty,
        "phone": seat.phone,
        "valid_from": seat.valid_from.isoformat(),
        "valid_to": seat.valid_to.isoformat() if seat.valid_to else None,
    }


@transaction.atomic
def leading_group_appoint(
    *,
    actor,
    unit: OrgUnit,
    person: Person,
    role: str,
    valid_from: date,
    duty: str = "",
    phone: str = "",
) -> LeadingGroupSeat:
    """Seat a person in the unit's leading group from `valid_from`.

    A successor to a single seat (组长, office contact) closes the holder's seat the day before;
    a person changing place (成员 → 副组长) has their old seat closed the same way. Earlier rows
    are never rewritten, so the start must come after the seats it would close.
    """
    if not selectors.can(actor, selectors.CAP_ROSTER_MANAGE, unit):
        raise PermissionDenied(ERR_GROUP_NOT_ALLOWED)
    if not _group_day_ok(valid_from):
        raise ValidationError({"valid_from": ERR_GROUP_DATE_WINDOW})
    if not _in_subtree(person, unit) or not person.is_active_on(valid_from):
        raise ValidationError({"person": ERR_GROUP_PERSON_OUTSIDE})
    # Lock the unit's seats: two coordinators appointing at once must not both close one seat.
    seats = list(LeadingGroupSeat.objects.select_for_update().filter(unit=unit))
    open_own = [s for s in seats if s.person_id == person.pk and s.valid_to is None]
    if any(s.role == role for s in open_own):
        raise ValidationError({"person": ERR_GROUP_SAME_SEAT})
    to_close = list(open_own)
    if role in SINGLE_SEAT_ROLES:
        to_close += [s for s in seats if s.role == role and s.valid_to is None]
        # A closed seat of the same single role must have ended before the new one starts.
        if any(s.role == role and s.valid_to and s.valid_to >= valid_from for s in seats):
            raise ValidationError({"valid_from": ERR_GROUP_BEFORE_CURRENT})
    if any(s.valid_from >= valid_from for s in to_close):
        raise ValidationError({"valid_from": ERR_GROUP_BEFORE_CURRENT})
    closed = []
    for s in to_close:
        before = seat_snapshot(s)
        s.valid_to = valid_from - timedelta(days=1)
        s.save(update_fields=["valid_to"])
        closed.append(s.pk)
        old, new = diff(before, seat_snapshot(s))
        audit_record(actor=actor, action=AuditAction.LEADING_GROUP_END, obj=s, old=old, new=new)
    seat = LeadingGroupSeat(
        unit=unit,
        person=person,
        role=role,
        duty=duty.strip(),
        phone=phone.strip(),
        valid_from=valid_from,
    )
    seat.full_clean()
    seat.save()
    audit_record(
        actor=actor,
        action=AuditAction.LEADING_GROUP_APPOINT,
        obj=seat,
        new=seat_snapshot(seat) | {"closed": closed},
    )
    return seat


@transaction.atomic
def leading_group_end(*, actor, seat: LeadingGroupSeat, valid_to: date) -> LeadingGroupSeat:
    """Close a seat on `valid_to` (its last day); the row stays for the history."""
    seat = (
        LeadingGroupSeat.objects.select_for_update(of=("self",))
        .select_related("unit")
        .get(pk=seat.pk)
    )
    if not selectors.can(actor, selectors.CAP_ROSTER_MANAGE, seat.unit):
        raise PermissionDenied(ERR_GROUP_NOT_ALLOWED)
    if seat.valid_to is not None:
        raise ValidationError(ERR_GROUP_ALREADY_ENDED)
    if not _group_day_ok(valid_to):
        raise ValidationError({"valid_to": ERR_GROUP_DATE_WINDOW})
    if valid_to < seat.valid_from:
        raise ValidationError({"valid_to": ERR_GROUP_END_BEFORE_START})
    before = seat_snapshot(seat)
    seat.valid_to = valid_to
    seat.full_clean()
    seat.save(update_fields=["valid_to"])
    old, new = diff(before, seat_snapshot(seat))
    audit_record(actor=actor, action=AuditAction.LEADING_GROUP_END, obj=seat, old=old, new=new)
    return seat


def person_snapshot(person: Person) -> dict:
    return {
        "name": person.name,
        "unit": person.unit.code,
        "gender": person.gender,
        "post": person.post,
        "rank": person.rank.code if person.rank_id else None,
        "mobile_masked": mask_mobile(person.mobile),
        "staff_number": person.staff_number,
        "id_number_masked": person.id_number_masked,
        "political_status": person.political_status,
        "active_from": person.active_from.isoformat() if person.active_from else None,
        "left_on": person.left_on.isoformat() if person.left_on else None,
    }


def _apply_id_number(person: Person, id_number: str | None) -> None:
    if id_number is None:
        return
    value = idcard.normalise(id_number)
    if not value:
        person.id_number_encrypted, person.id_number_hash, person.id_number_masked = "", None, ""
        return
    if not idcard.is_valid(value):
        raise ValidationError({"id_number": ERR_ID_INVALID})
    digest = crypto.keyed_hash(value)
    if Person.objects.filter(id_number_hash=digest).exclude(pk=person.pk).exists():
        raise ValidationError({"id_number": ERR_ID_DUPLICATE})
    person.id_number_encrypted = crypto.encrypt(value)
    person.id_number_hash = digest
    person.id_number_masked = mask_id_number(value)


@transaction.atomic
def person_create(
    *,
    actor,
    unit: OrgUnit,
    name: str,
    id_number: str | None = None,
    rank: Rank | None = None,
    **fields,
) -> Person:
    """Register a staff member; the ID number is validated (GB 11643), encrypted and hashed."""
    person = Person(unit=unit, name=name, rank=rank, **fields)
    _apply_id_number(person, id_number)
    person.full_clean()
    person.save()
    audit_record(
        actor=actor, action=AuditAction.PERSON_CREATE, obj=person, new=person_snapshot(person)
    )
    return person


@transaction.atomic
def person_update(*, actor, person: Person, id_number: str | None = None, **fields) -> Person:
    """Change a staff member's record; only changed fields reach the audit trail."""
    person = (
        Person.objects.select_for_update(of=("self",))
        .select_related("unit", "rank")
        .get(pk=person.pk)
    )
    before = person_snapshot(person)
    for key, value in fields.items():
        setattr(person, key, value)
    _apply_id_number(person, id_number)
    person.updated_at = clock.now()
    person.full_clean()
    person.save()
    old, new = diff(before, person_snapshot(person))
    if new:
        audit_record(actor=actor, action=AuditAction.PERSON_UPDATE, obj=person, old=old, new=new)
    return person


def person_reveal_id_number(*, actor, person: Person, reason: str = "") -> str:
    """Decrypt an ID number for a viewer whose role needs it; the unmasking is logged."""
    if not person.id_number_encrypted:
        return ""
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.PERSON_REVEAL_ID, obj=person, detail=reason)
    return crypto.decrypt(person.id_number_encrypted)


def person_reveal_mobile(*, actor, person: Person, reason: str = "") -> str:
    """Show a full mobile number to a viewer whose role needs it; the unmasking is logged."""
    with transaction.atomic():
        audit_record(
            actor=actor, action=AuditAction.PERSON_REVEAL_MOBILE, obj=person, detail=reason
        )
    return person.mobile


@transaction.atomic
def family_member_add(
    *,
    actor,
    person: Person,
    name: str,
    relation: str,
    lives_with: bool = True,
    birth_year: int | None = None,
    mobile: str = "",
) -> FamilyMember:
    member = FamilyMember(
        person=person,
        name=name,
        relation=relation,
        lives_with=lives_with,
        birth_year=birth_year,
        mobile=mobile,
    )
    member.full_clean()
    member.save()
    audit_record(
        actor=actor,
        action=AuditAction.FAMILY_ADD,
        obj=member,
        new={"person": person.pk, "relation": relation, "lives_with": lives_with},
    )
    return member


@transaction.atomic
def family_member_remove(*, actor, member: FamilyMember) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.FAMILY_REMOVE,
        obj=member,
        old={"person": member.person_id, "relation": member.relation},
    )
    member.delete()


# --- The household list a staff member keeps (家庭成员及同住人): dated, never deleted. ---

ERR_FAMILY_NOT_ALLOWED = "只有本人或本单位联络员可以修改家庭成员名单。"
ERR_FAMILY_DUPLICATE = "已登记同名、同关系的家庭成员，请勿重复添加。"
ERR_FAMILY_ALREADY_MOVED_OUT = "该家庭成员已登记迁出，无需重复登记。"
ERR_FAMILY_MOVE_OUT_FUTURE = "迁出日期不能晚于今天；尚未迁出的，请在迁出当天再登记。"
ERR_FAMILY_MOVE_OUT_TOO_OLD = "迁出日期不能早于一年前，请核对日期。"
ERR_FAMILY_BIRTH_YEAR = "出生年份应在 1900 年至今年之间。"
# How far back a move-out may be dated: older dates are almost always typing mistakes.
FAMILY_MOVE_OUT_WINDOW_DAYS = 366


def _may_edit_household(actor, person: Person) -> bool:
    """The staff member themself, or someone who reports for their unit (liaison, administrator)."""
    return person.user_id == actor.pk or selectors.can(actor, selectors.CAP_REPORT, person.unit)


def family_member_snapshot(member: FamilyMember) -> dict:
    """What the audit trail keeps of a member: no name or mobile in clear (they are personal data)."""
    return {
        "person": member.person_id,
        "relation": member.relation,
        "lives_with": member.lives_with,
        "active_from": member.active_from.isoformat() if member.active_from else None,
        "moved_out_on": member.moved_out_on.isoformat() if member.moved_out_on else None,
        "expected_until": member.expected_until.isoformat() if member.expected_until else None,
    }


@transaction.atomic
def family_member_declare(
    *,
    actor,
    person: Person,
    name: str,
    relation: str,
    lives_with: bool = True,
    birth_year: int | None = None,
    mobile: str = "",
) -> FamilyMember:
    """A staff member adds a family member or co-resident; the check-in includes them from tomorrow."""
    if not _may_edit_household(actor, person):
        raise PermissionDenied(ERR_FAMILY_NOT_ALLOWED)
    today = clock.today()
    name = name.strip()
    if birth_year is not None and not 1900 <= birth_year <= today.year:
        raise ValidationError({"birth_year": ERR_FAMILY_BIRTH_YEAR})
    current = person.family.filter(moved_out_on__isnull=True, name=name, relation=relation)
    if current.exists():
        raise ValidationError({"name": ERR_FAMILY_DUPLICATE})
    member = FamilyMember(
        person=person,
        name=name,
        relation=relation,
        lives_with=lives_with,
        birth_year=birth_year,
        mobile=mobile,
        active_from=today + timedelta(days=1),
    )
    member.full_clean()
    member.save()
    audit_record(
        actor=actor,
        action=AuditAction.FAMILY_DECLARE,
        obj=member,
        new=family_member_snapshot(member),
    )
    return member


@transaction.atomic
def family_member_move_out(*, actor, member: FamilyMember, moved_out_on: date) -> FamilyMember:
    """Record that a member moved out on a (past or today's) date; the check-in drops them tomorrow."""
    member = (
        FamilyMember.objects.select_for_update(of=("self",))
        .select_related("person__unit")
        .get(pk=member.pk)
    )
    if not _may_edit_household(actor, member.person):
        raise PermissionDenied(ERR_FAMILY_NOT_ALLOWED)
    if member.moved_out_on is not None:
        raise ValidationError(ERR_FAMILY_ALREADY_MOVED_OUT)
    today = clock.today()
    if moved_out_on > today:
        raise ValidationError({"moved_out_on": ERR_FAMILY_MOVE_OUT_FUTURE})
    if moved_out_on < today - timedelta(days=FAMILY_MOVE_OUT_WINDOW_DAYS):
        raise ValidationError({"moved_out_on": ERR_FAMILY_MOVE_OUT_TOO_OLD})
    before = family_member_snapshot(member)
    member.moved_out_on = moved_out_on
    # Today's check-in (perhaps already submitted) keeps them; the next day's does not.
    member.expected_until = today
    member.full_clean()
    member.save(update_fields=["moved_out_on", "expected_until"])
    old, new = diff(before, family_member_snapshot(member))
    audit_record(actor=actor, action=AuditAction.FAMILY_MOVE_OUT, obj=member, old=old, new=new)
    return member


# --- Roster import and export (名册导入导出). ---


# Outcomes of a roster upload in the audit trail (action "roster.upload").
UPLOAD_PREVIEWED = "previewed"  # checked clean, waiting for the user to confirm the import
UPLOAD_REFUSED = "refused"  # read and checked, with problems: can never be imported
UPLOAD_TOO_LARGE = "too_large"  # turned away before it was read


def _upload_facts(*, actor, name: str, size: int, sha256: str, outcome: str, errors: int) -> dict:
    """What the audit trail keeps of an upload: never its content or the personal data in it."""
    return {
        "file": name[:255],
        "size": size,
        "sha256": sha256,
        "outcome": outcome,
        "errors": errors,
        "units": selectors.granted_unit_codes(actor, selectors.CAP_ROSTER_MANAGE),
    }


def roster_upload_create(*, actor, name: str, data: bytes) -> RosterUpload:
    """Check an uploaded roster and keep it (encrypted) for confirmation; nothing else is written.

    Every upload is audited, clean or not: who, for which units, which file (name, size, SHA-256),
    the outcome and the number of problems.
    """
    if len(data) > settings.ROSTER_MAX_BYTES:
        roster_upload_refuse(actor=actor, name=name, size=len(data), chunks=[data])
        raise ValidationError(roster.ERR_TOO_LARGE.format(limit=roster.max_megabytes()))
    # The checks only read, so they run before (not inside) the write transaction.
    analysis = roster.analyse(data, user=actor)
    summary = analysis.summary()
    with transaction.atomic():
        upload = RosterUpload.objects.create(
            uploaded_by=actor,
            original_name=name[:255],
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            # A file that failed its checks can never be confirmed, so its personal data is not kept.
            content=roster.seal(data) if analysis.ok else b"",
            status=RosterUpload.Status.PREVIEWED if analysis.ok else RosterUpload.Status.FAILED,
            summary=summary,
        )
        audit_record(
            actor=actor,
            action=AuditAction.ROSTER_UPLOAD,
            obj=upload,
            new=_upload_facts(
                actor=actor,
                name=upload.original_name,
                size=upload.size,
                sha256=upload.sha256,
                outcome=UPLOAD_PREVIEWED if analysis.ok else UPLOAD_REFUSED,
                errors=summary["error_count"],
            ),
        )
    return upload


@transaction.atomic
def roster_upload_refuse(*, actor, name: str, size: int, chunks: Iterable[bytes] = ()) -> None:
    """Record an upload turned away before it was read (too large); nothing else is kept.

    `chunks` are the file's bytes when they arrived (its SHA-256 is then recorded), none when the
    request was refused on its announced length alone.
    """
    digest, seen = hashlib.sha256(), False
    for chunk in chunks:
        digest.update(chunk)
        seen = True
    audit_record(
        actor=actor,
        action=AuditAction.ROSTER_UPLOAD,
        new=_upload_facts(
            actor=actor,
            name=name,
            size=size,
            sha256=digest.hexdigest() if seen else "",
            outcome=UPLOAD_TOO_LARGE,
            errors=1,
        ),
    )


def roster_import_apply(*, actor, upload: RosterUpload) -> tuple[RosterUpload, bool]:
    """Re-check the stored file and import it all-or-nothing; returns (upload, whether this call ran it).

    The upload row is locked and its status checked first, so a confirm submitted twice imports once.
    """
    with transaction.atomic():
        upload = RosterUpload.objects.select_for_update().get(pk=upload.pk)
        if upload.uploaded_by_id != actor.pk:
            raise PermissionDenied("not your upload")
        if upload.status != RosterUpload.Status.PREVIEWED:
            return upload, False
        try:
            analysis = roster.analyse(roster.unseal(upload.content), user=actor)
        except roster.RosterFileError as exc:
            analysis = roster.Analysis(None, [exc.problem], [], [])
        summary = analysis.summary()
        if analysis.ok:
            try:
                with transaction.atomic():
                    _roster_apply_plan(actor=actor, plan=analysis.plan)
                    audit_record(
                        actor=actor,
                        action=AuditAction.ROSTER_IMPORT,
                        obj=upload,
                        new={"file": upload.original_name, "sha256": upload.sha256}
                        | analysis.counts,
                    )
            except (ValidationError, IntegrityError) as exc:
                # Someone changed the data between the checks and the writes: nothing is kept.
                detail = "; ".join(getattr(exc, "messages", None) or [str(exc)])[:200]
                problem = roster.Problem("", None, "", roster.ERR_APPLY_FAILED, {"detail": detail})
                summary = summary | {"errors": [problem.as_json()], "error_count": 1}
        ok = not summary["errors"]
        upload.status = RosterUpload.Status.APPLIED if ok else RosterUpload.Status.FAILED
        upload.summary = summary
        upload.content = b""  # the personal data now lives in the records (or nowhere)
        upload.applied_at = clock.now() if ok else None
        upload.save(update_fields=["status", "summary", "content", "applied_at"])
    return upload, True


def _roster_apply_plan(*, actor, plan) -> None:
    """Carry out a checked plan through the services (bulk ones for new rows): every write is audited."""
    for op in plan.units:  # parents before children
        parent = OrgUnit.objects.get(code=op.parent_code) if op.parent_code else None
        if op.existing_id is None:
            unit_create(actor=actor, code=op.code, parent=parent, **op.fields)
        else:
            fields = dict(op.fields) | ({"parent": parent} if op.move else {})
            unit_update(actor=actor, unit=OrgUnit(pk=op.existing_id), **fields)
    # Paths may have moved above: read the units afresh.
    codes = {op.unit_code for op in plan.people} | {op.unit_code for op in plan.responsibles}
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=codes)}
    people: dict[tuple[str, int], Person] = {}
    new_ops = [op for op in plan.people if op.existing_id is None]
    created = person_create_many(
        actor=actor,
        people=[
            {"unit": units[op.unit_code], "id_number": op.id_number, **op.fields} for op in new_ops
        ],
    )
    people.update(zip([op.key for op in new_ops], created, strict=True))
    for op in plan.people:
        if op.existing_id is not None:
            fields = dict(op.fields) | ({"unit": units[op.unit_code]} if op.move else {})
            people[op.key] = person_update(
                actor=actor, person=Person(pk=op.existing_id), id_number=op.id_number, **fields
            )
    wanted = {
        key[1]
        for op in plan.responsibles
        for key in [op.first_responsible, *op.liaisons]
        if key and key[0] == "db" and key not in people
    } | {op.person[1] for op in plan.family if op.person[0] == "db" and op.person not in people}
    for person in Person.objects.filter(pk__in=wanted).select_related("unit"):
        people[("db", person.pk)] = person
    for op in plan.responsibles:
        unit_set_responsibles(
            actor=actor,
            unit=units[op.unit_code],
            first_responsible=people[op.first_responsible] if op.first_responsible else None,
            liaisons=[people[k] for k in op.liaisons],
        )
    family_member_add_many(
        actor=actor,
        members=[
            {
                "person": people[op.person],
                "name": op.name,
                "relation": op.relation,
                "lives_with": op.lives_with,
                "birth_year": op.birth_year,
            }
            for op in plan.family
        ],
    )


@transaction.atomic
def roster_export_record(*, actor, unit: OrgUnit, counts: dict[str, int]) -> None:
    """Log who exported which unit's roster and how many rows left the system."""
    audit_record(
        actor=actor, action=AuditAction.ROSTER_EXPORT, obj=unit, new={"unit": unit.code} | counts
    )


# --- Bulk writes for the roster import: the checks and audit events of the single-row services,
# in a few statements instead of several per row (5,000 people would otherwise take minutes). ---


@transaction.atomic
def person_create_many(*, actor, people: list[dict]) -> list[Person]:
    """Register many staff members at once: person_create's checks and audit event for each."""
    persons = []
    for spec in people:
        spec = dict(spec)
        id_number = idcard.normalise(spec.pop("id_number", None) or "")
        person = Person(**spec)
        if id_number:
            if not idcard.is_valid(id_number):
                raise ValidationError({"id_number": ERR_ID_INVALID})
            person.id_number_encrypted = crypto.encrypt(id_number)
            person.id_number_hash = crypto.keyed_hash(id_number)
            person.id_number_masked = mask_id_number(id_number)
        # References and uniqueness are checked once for the batch below, not with a query per row.
        person.full_clean(exclude=["unit", "rank", "user"], validate_unique=False)
        persons.append(person)
    hashes = [p.id_number_hash for p in persons if p.id_number_hash]
    taken = len(set(hashes)) != len(hashes)
    for i in range(0, len(hashes), 900):
        taken = taken or Person.objects.filter(id_number_hash__in=hashes[i : i + 900]).exists()
    if taken:
        raise ValidationError({"id_number": ERR_ID_DUPLICATE})
    Person.objects.bulk_create(persons, batch_size=500)
    audit_record_many(
        actor=actor,
        action=AuditAction.PERSON_CREATE,
        items=[(p, person_snapshot(p)) for p in persons],
    )
    return persons


@transaction.atomic
def family_member_add_many(*, actor, members: list[dict]) -> list[FamilyMember]:
    """Add many family members at once: family_member_add's checks and audit event for each."""
    created = []
    for spec in members:
        member = FamilyMember(**spec)
        member.full_clean(exclude=["person"])
        created.append(member)
    FamilyMember.objects.bulk_create(created, batch_size=500)
    audit_record_many(
        actor=actor,
        action=AuditAction.FAMILY_ADD,
        items=[
            (m, {"person": m.person_id, "relation": m.relation, "lives_with": m.lives_with})
            for m in created
        ],
    )
    return created


# --- Roles: granted explicitly (RoleAssignment) or named on the unit (first responsible person,
# liaisons). Read only through org.selectors. ---

ERR_ROLE_GRANTEE_OUTSIDE = N_("只能把本单位的角色授予本单位或下级单位的在职人员。")
ERR_ROLE_NO_ACCOUNT = N_("{name} 还没有账号：请先在本单位的“账号”页为其开通，再授予角色。")
ERR_ROLE_HELD = N_("{name} 已经是本单位的{role}。")


@transaction.atomic
def role_assign(*, actor, user, role: str, unit: OrgUnit | None = None) -> RoleAssignment:
    assignment = RoleAssignment(user=user, role=role, unit=unit)
    assignment.full_clean()
    assignment.save()
    audit_record(
        actor=actor,
        action=AuditAction.ROLE_ASSIGN,
        obj=assignment,
        new={
            "user": mask_username(user.username),
            "role": role,
            "unit": unit.code if unit else None,
        },
    )
    return assignment


@transaction.atomic
def role_revoke(*, actor, assignment: RoleAssignment) -> None:
    """Take a role away. Its holder's API tokens are scoped like them, so they are narrowed at
    once; the event counts them."""
    # The tokens are accounts' (ApiToken), reached through the user so that org imports nothing
    # of accounts.
    live_tokens = assignment.user.api_tokens.filter(revoked_at__isnull=True)
    audit_record(
        actor=actor,
        action=AuditAction.ROLE_REVOKE,
        obj=assignment,
        old={
            "user": mask_username(assignment.user.username),
            "role": assignment.role,
            "unit": assignment.unit.code if assignment.unit_id else None,
        },
        new={"tokens_narrowed": live_tokens.count()},
    )
    assignment.delete()


def _role_label(role: str) -> str:
    return _(selectors.ROLE_LABELS[role])


@transaction.atomic
def role_grant(*, actor, unit: OrgUnit, role: str, person: Person) -> None:
    """Give `person` `role` at `unit`. The caller checked selectors.roles_grantable; the grantee
    must be in post in the unit's subtree, and have an account for roles held by a login
    (coordinator, deputy liaison, duty officer, auditor). Effective on their next request."""
    if not person.unit.path.startswith(unit.path) or not person.is_active_on(clock.today()):
        raise ValidationError(_(ERR_ROLE_GRANTEE_OUTSIDE))
    held = ValidationError(_(ERR_ROLE_HELD).format(name=person.name, role=_role_label(role)))
    liaisons = list(unit.liaisons.select_related("unit"))
    if role == selectors.ROLE_LEADER:
        if unit.first_responsible_id == person.pk:
            raise held
        unit_set_responsibles(actor=actor, unit=unit, first_responsible=person, liaisons=liaisons)
        return
    if role == selectors.ROLE_LIAISON:
        if person in liaisons:
            raise held
        unit_set_responsibles(
            actor=actor,
            unit=unit,
            first_responsible=unit.first_responsible,
            liaisons=[*liaisons, person],
        )
        return
    if person.user_id is None:
        raise ValidationError(_(ERR_ROLE_NO_ACCOUNT).format(name=person.name))
    if selectors.role_held(user_id=person.user_id, role=role, unit=unit):
        raise held
    role_assign(actor=actor, user=person.user, role=role, unit=unit)


@transaction.atomic
def role_withdraw(*, actor, unit: OrgUnit, role: str, holder_id: int) -> bool:
    """Take `role` at `unit` from its holder (a person for first responsible person and liaison,
    else a role assignment); False when there is no such holder. The holder's sessions and API
    tokens lose the role's reach on their next request: grants are read afresh each time."""
    liaisons = list(unit.liaisons.select_related("unit"))
    if role == selectors.ROLE_LEADER:
        if unit.first_responsible_id != holder_id:
            return False
        unit_set_responsibles(actor=actor, unit=unit, first_responsible=None, liaisons=liaisons)
        return True
    if role == selectors.ROLE_LIAISON:
        if holder_id not in {p.pk for p in liaisons}:
            return False
        unit_set_responsibles(
            actor=actor,
            unit=unit,
            first_responsible=unit.first_responsible,
            liaisons=[p for p in liaisons if p.pk != holder_id],
        )
        return True
    assignment = selectors.role_assignment_at(unit, role, holder_id)
    if assignment is None:
        return False
    role_revoke(actor=actor, assignment=assignment)
    return True
