"""Roster workbooks written: the export and the template share the layout the importer reads."""

from datetime import date

from fangkong.lib import idcard
from fangkong.lib.masking import mask_mobile
from fangkong.lib.spreadsheet_out import Workbook
from fangkong.org import selectors
from fangkong.org.models import (
    FamilyMember,
    Gender,
    OrgUnit,
    Person,
    PoliticalStatus,
    Rank,
    Relation,
    UnitLevel,
    subtree_bounds,
)
from fangkong.org.roster.read import COLUMNS, FAMILY, KINDS, PEOPLE, SHEET_NAMES, UNITS, _zh

# --- Writing workbooks: the export and the template share the layout the importer reads. ---

_TEXT_FIELDS = {
    "code",
    "parent",
    "unit",
    "mobile",
    "staff_number",
    "id_number",
    "person_id_number",
    "person_unit",
}
_DATE_FIELDS = {"opened_on", "closed_on", "active_from", "left_on"}
_WIDE_FIELDS = {"name", "id_number", "person_id_number", "unit", "parent", "person_unit"}
YES, NO = "是", "否"

TEMPLATE_NOTES = [
    "名册导入说明",
    "1. 本文件有「单位」「人员」「家庭成员」三张表，可只填其中一张或几张；第一行是列名，请勿修改。",
    "2. 单位按「单位编码」对应：编码已存在则更新该单位，不存在则新增。上级单位填编码或准确名称。"
    "编码只能用字母、数字、汉字和 - _ .（编码会出现在网址中）。",
    "3. 人员按「身份证号」对应：已登记则更新，未登记则新增。单位填编码或准确名称。",
    "4. 留空的单元格表示“保持不变”（新增时为空）。日期写成 2020-01-23 或 2020年1月23日。",
    "5. 从系统导出的名册中，身份证号和手机号码已脱敏（含 *）：这样的值表示“保持不变”，"
    "只能用于本单位已有的同名人员；新增或调动人员请填写完整号码。",
    "6. 身份证号、手机号码两列请保持“文本”格式，否则 Excel 会把身份证号后几位变成 0。",
    "7. 家庭成员按「职工身份证号」找到职工；若身份证号已脱敏，请同时填写「职工姓名」和「单位」。",
    "8. 表中的示例行请在导入前删除。",
]


def _dropdowns() -> dict[str, list[str]]:
    return {
        "level": [lv.name for lv in UnitLevel.objects.all()],
        "rank": [r.name for r in Rank.objects.all()],
        "gender": [_zh(label) for _, label in Gender.choices],
        "political_status": [_zh(label) for _, label in PoliticalStatus.choices],
        "relation": [_zh(label) for _, label in Relation.choices],
        "is_first_responsible": [YES, NO],
        "is_liaison": [YES, NO],
        "lives_with": [YES, NO],
    }


def write_workbook(records: dict[str, list[dict]], *, notes: list[str] | None = None) -> bytes:
    """An .xlsx with the 单位 / 人员 / 家庭成员 sheets; every value is written as plain text or a date."""
    # Text is never turned into a formula, number or link: cells hold exactly the data (text that
    # a spreadsheet would run as a formula gets a leading quote, which the reader takes off again).
    book = Workbook()
    head = book.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
    text = book.add_format({"num_format": "@"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    dropdowns = _dropdowns()
    for kind in KINDS:
        ws = book.add_worksheet(SHEET_NAMES[kind])
        columns = COLUMNS[kind]
        rows = records.get(kind, [])
        for j, col in enumerate(columns):
            fmt = text if col.field in _TEXT_FIELDS else day if col.field in _DATE_FIELDS else None
            ws.set_column(j, j, 22 if col.field in _WIDE_FIELDS else 13, fmt)
            ws.write(0, j, col.header, head)
            source = dropdowns.get(col.field)
            if source and len("，".join(source)) < 250:
                # A warning, not a stop: synonyms and codes are accepted too.
                ws.data_validation(
                    1,
                    j,
                    max(len(rows), 1000),
                    j,
                    {"validate": "list", "source": source, "error_type": "warning"},
                )
        ws.freeze_panes(1, 0)
        for i, record in enumerate(rows, start=1):
            for j, col in enumerate(columns):
                value = record.get(col.field)
                if value is None or value == "":
                    continue
                if isinstance(value, date):
                    ws.write(i, j, value, day)
                elif isinstance(value, int) and not isinstance(value, bool):
                    ws.write(i, j, value)
                else:
                    ws.write(i, j, str(value))
    if notes:
        ws = book.add_worksheet("说明")
        ws.set_column(0, 0, 110)
        for i, line in enumerate(notes):
            ws.write(i, 0, line)
    return book.close()


def build_export(unit: OrgUnit) -> tuple[bytes, dict[str, int]]:
    """The unit's subtree as an editable workbook; ID numbers and mobiles are masked."""
    low, high = subtree_bounds(unit.path)
    units = list(
        OrgUnit.objects.filter(path__gte=low, path__lt=high).select_related("level", "parent")
    )
    people = list(
        Person.objects.filter(unit__path__gte=low, unit__path__lt=high)
        .select_related("unit", "rank")
        .order_by("unit__path", "id")
    )
    responsible = {(u.pk, u.first_responsible_id) for u in units if u.first_responsible_id}
    liaisons = set(
        OrgUnit.liaisons.through.objects.filter(
            orgunit__path__gte=low, orgunit__path__lt=high
        ).values_list("orgunit_id", "person_id")
    )
    family = list(
        FamilyMember.objects.filter(person__unit__path__gte=low, person__unit__path__lt=high)
        .select_related("person__unit")
        .order_by("person__unit__path", "person_id", "id")
    )
    genders = {value: _zh(label) for value, label in Gender.choices}
    political = {value: _zh(label) for value, label in PoliticalStatus.choices}
    relations = {value: _zh(label) for value, label in Relation.choices}
    records = {
        UNITS: [
            {
                "code": u.code,
                "name": u.name,
                "short_name": u.short_name,
                "parent": u.parent.code if u.parent_id else "",
                "level": u.level.name,
                "opened_on": u.opened_on,
                "closed_on": u.closed_on,
            }
            for u in units
        ],
        PEOPLE: [
            {
                "name": p.name,
                "unit": p.unit.code,
                "post": p.post,
                "rank": p.rank.name if p.rank_id else "",
                "mobile": mask_mobile(p.mobile),
                "staff_number": p.staff_number,
                "id_number": p.id_number_masked,
                "gender": genders.get(p.gender, ""),
                "political_status": political.get(p.political_status, ""),
                "active_from": p.active_from,
                "left_on": p.left_on,
                "is_first_responsible": YES if (p.unit_id, p.pk) in responsible else NO,
                "is_liaison": YES if (p.unit_id, p.pk) in liaisons else NO,
            }
            for p in people
        ],
        FAMILY: [
            {
                "person_id_number": m.person.id_number_masked,
                "person_name": m.person.name,
                "person_unit": m.person.unit.code,
                "name": m.name,
                "relation": relations.get(m.relation, ""),
                "lives_with": YES if m.lives_with else NO,
                "birth_year": m.birth_year,
            }
            for m in family
        ],
    }
    counts = {"units": len(units), "people": len(people), "family": len(family)}
    return write_workbook(records), counts


def build_template(user) -> bytes:
    """A blank roster with one example row per sheet, placed under the user's own top unit."""
    top = selectors.units_for(user, selectors.CAP_ROSTER_MANAGE).order_by("depth", "path").first()
    code = f"{top.code}-SL" if top else "SL-001"
    example_id = idcard.make("110101", date(1990, 5, 1), 123)
    records = {
        UNITS: [
            {
                "code": code,
                "name": "示例科室",
                "short_name": "示例",
                "parent": top.code if top else "",
                "level": "处室",
                "opened_on": date(2020, 1, 23),
            }
        ],
        PEOPLE: [
            {
                "name": "张三",
                "unit": code,
                "post": "科员",
                "rank": "科员及以下",
                "mobile": "13800000000",
                "id_number": example_id,
                "gender": "男",
                "political_status": "中共党员",
                "active_from": date(2015, 7, 1),
                "is_first_responsible": NO,
                "is_liaison": YES,
            }
        ],
        FAMILY: [
            {
                "person_id_number": example_id,
                "person_name": "张三",
                "person_unit": code,
                "name": "李四",
                "relation": "配偶",
                "lives_with": YES,
                "birth_year": 1991,
            }
        ],
    }
    return write_workbook(records, notes=TEMPLATE_NOTES)
