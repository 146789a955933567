"""API: the unit tree and people, narrowed to the caller's scope; identifiers always masked."""

from datetime import date

from ninja import Router, Schema
from ninja.pagination import paginate

from fangkong.lib.masking import mask_mobile
from fangkong.org import selectors

router = Router(tags=["org"])


class UnitOut(Schema):
    code: str
    name: str
    short_name: str
    level: str
    parent_code: str | None
    depth: int
    opened_on: date | None
    closed_on: date | None
    first_responsible: str | None

    @staticmethod
    def resolve_level(u):
        return u.level.name

    @staticmethod
    def resolve_parent_code(u):
        return u.parent.code if u.parent_id else None

    @staticmethod
    def resolve_first_responsible(u):
        return u.first_responsible.name if u.first_responsible_id else None


class FamilyOut(Schema):
    name: str
    relation: str
    lives_with: bool
    birth_year: int | None
    active_from: date | None
    moved_out_on: date | None


class PersonOut(Schema):
    id: int
    name: str
    unit_code: str
    post: str
    rank: str | None
    mobile_masked: str
    id_number_masked: str
    political_status: str
    active_from: date | None
    left_on: date | None

    @staticmethod
    def resolve_unit_code(p):
        return p.unit.code

    @staticmethod
    def resolve_rank(p):
        return p.rank.name if p.rank_id else None

    @staticmethod
    def resolve_mobile_masked(p):
        return mask_mobile(p.mobile)


class PersonDetailOut(PersonOut):
    family: list[FamilyOut]

    @staticmethod
    def resolve_family(p):
        return list(p.family.all())


@router.get("/units", response=list[UnitOut], summary="可见单位列表（可按上级单位筛选）")
@paginate
def list_units(request, parent: str | None = None):
    qs = selectors.units_for(request.auth).select_related("level", "parent", "first_responsible")
    if parent:
        qs = qs.filter(parent=selectors.get_unit_for(request.auth, parent))
    return qs.order_by("path")


@router.get("/units/{code}", response=UnitOut, summary="单个单位")
def get_unit(request, code: str):
    return selectors.get_unit_for(request.auth, code)


@router.get(
    "/units/{code}/people", response=list[PersonOut], summary="单位本级人员（证件号、手机号脱敏）"
)
@paginate
def unit_people(request, code: str):
    unit = selectors.get_unit_for(request.auth, code, selectors.CAP_PEOPLE_VIEW)
    qs = selectors.people_for(request.auth).filter(unit=unit).select_related("unit", "rank")
    return qs.order_by("id")


@router.get("/people/{person_id}", response=PersonDetailOut, summary="人员及家庭成员（脱敏）")
def get_person(request, person_id: int):
    return selectors.get_person_for(request.auth, person_id)
