"""Writes to the org tree and the roster. Keyword-only, atomic, each with its audit event."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from fangkong.audit.services import audit_record, diff
from fangkong.lib import crypto, idcard
from fangkong.lib.masking import mask_id_number, mask_mobile
from fangkong.org.models import (
    SEGMENT,
    FamilyMember,
    OrgUnit,
    Person,
    Rank,
    ReportingLine,
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
    audit_record(actor=actor, action="unit.create", obj=unit, new=unit_snapshot(unit))
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
    unit.full_clean(exclude=["path"])
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
        audit_record(actor=actor, action="unit.update", obj=unit, old=old, new=new)
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
    unit.save(update_fields=["first_responsible", "updated_at"])
    unit.liaisons.set(liaisons)
    new = {
        "first_responsible": first_responsible.pk if first_responsible else None,
        "liaisons": sorted(p.pk for p in liaisons),
    }
    audit_record(actor=actor, action="unit.responsibles", obj=unit, old=old, new=new)
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
        action="reporting_line.add",
        obj=line,
        new={"unit": unit.code, "superior": superior.code, "name": name},
    )
    return line


def person_snapshot(person: Person) -> dict:
    return {
        "name": person.name,
        "unit": person.unit.code,
        "gender": person.gender,
        "post": person.post,
        "rank": person.rank.code if person.rank_id else None,
        "mobile_masked": mask_mobile(person.mobile),
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
    audit_record(actor=actor, action="person.create", obj=person, new=person_snapshot(person))
    return person


@transaction.atomic
def person_update(*, actor, person: Person, id_number: str | None = None, **fields) -> Person:
    """Change a staff member's record; only changed fields reach the audit trail."""
    person = (
        Person.objects.select_for_update(of=("self",)).select_related("unit", "rank").get(pk=person.pk)
    )
    before = person_snapshot(person)
    for key, value in fields.items():
        setattr(person, key, value)
    _apply_id_number(person, id_number)
    person.full_clean()
    person.save()
    old, new = diff(before, person_snapshot(person))
    if new:
        audit_record(actor=actor, action="person.update", obj=person, old=old, new=new)
    return person


def person_reveal_id_number(*, actor, person: Person, reason: str = "") -> str:
    """Decrypt an ID number for a viewer whose role needs it; the unmasking is logged."""
    if not person.id_number_encrypted:
        return ""
    with transaction.atomic():
        audit_record(actor=actor, action="person.reveal_id", obj=person, detail=reason)
    return crypto.decrypt(person.id_number_encrypted)


def person_reveal_mobile(*, actor, person: Person, reason: str = "") -> str:
    """Show a full mobile number to a viewer whose role needs it; the unmasking is logged."""
    with transaction.atomic():
        audit_record(actor=actor, action="person.reveal_mobile", obj=person, detail=reason)
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
        action="family.add",
        obj=member,
        new={"person": person.pk, "relation": relation, "lives_with": lives_with},
    )
    return member


@transaction.atomic
def family_member_remove(*, actor, member: FamilyMember) -> None:
    audit_record(
        actor=actor,
        action="family.remove",
        obj=member,
        old={"person": member.person_id, "relation": member.relation},
    )
    member.delete()
