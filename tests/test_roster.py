"""Roster import and export (名册导入导出): files, checks, scope, round trip, double confirm."""

import csv
import hashlib
import io
import random
import struct
import threading
import time
import zipfile
from datetime import date, datetime

import pytest
import python_calamine
import xlsxwriter
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from fangkong.audit.models import AuditEvent
from fangkong.lib import crypto, idcard
from fangkong.org import roster, services
from fangkong.org.models import FamilyMember, OrgUnit, Person, RosterUpload

UNIT_HEADERS = ["单位编码", "单位名称", "简称", "上级单位", "层级", "启用日期", "撤销日期"]
PEOPLE_HEADERS = [
    "姓名",
    "单位",
    "职务",
    "职级",
    "手机号码",
    "身份证号",
    "性别",
    "政治面貌",
    "入职日期",
    "离职日期",
    "是否第一责任人",
    "是否联络员",
]
FAMILY_HEADERS = ["职工身份证号", "姓名", "关系", "是否同住", "出生年份"]


# --- Building files at run time. ---


def new_id(n: int, born: date = date(1990, 1, 1)) -> str:
    return idcard.make("420103", born, n)


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, date):
                    ws.write_datetime(i, j, datetime(value.year, value.month, value.day), day)
                elif isinstance(value, int | float):
                    ws.write_number(i, j, value)
                else:
                    ws.write_string(i, j, value)
    book.close()
    return buf.getvalue()


def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _bof(kind: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 6))


def xls(sheets: dict[str, list[list]]) -> bytes:
    """A minimal BIFF8 .xls (Excel 97-2003) in an OLE2 container: no xls writer is installed."""
    strings: dict[str, int] = {}
    for rows in sheets.values():
        for row in rows:
            for v in row:
                if isinstance(v, str) and v:
                    strings.setdefault(v, len(strings))
    sst = struct.pack("<II", len(strings), len(strings)) + b"".join(
        struct.pack("<HB", len(t), 1) + t.encode("utf-16-le") for t in strings
    )

    def boundsheet(pos: int, name: str) -> bytes:
        return _record(
            0x0085, struct.pack("<IHBB", pos, 0, len(name), 1) + name.encode("utf-16-le")
        )

    head = _bof(0x0005) + _record(0x0042, struct.pack("<H", 1200))  # globals, UTF-16
    # An unknown record pads the stream past 4096 bytes, so it lives in ordinary sectors.
    tail = _record(0x00FC, sst) + _record(0x1234, bytes(4200)) + _record(0x000A)
    pos = len(head) + sum(len(boundsheet(0, n)) for n in sheets) + len(tail)
    bodies, positions = [], []
    for rows in sheets.values():
        positions.append(pos)
        width = max((len(r) for r in rows), default=0)
        body = _bof(0x0010) + _record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if isinstance(v, str) and v:
                    body += _record(0x00FD, struct.pack("<HHHI", r, c, 0, strings[v]))
                elif isinstance(v, int | float):
                    body += _record(0x0203, struct.pack("<HHHd", r, c, 0, float(v)))
        body += _record(0x000A)
        bodies.append(body)
        pos += len(body)
    sheet_records = b"".join(boundsheet(p, n) for p, n in zip(positions, sheets, strict=True))
    return _ole2(head + sheet_records + tail + b"".join(bodies))


def _ole2(stream: bytes) -> bytes:
    """One stream named Workbook in a version-3 compound file: FAT, data, directory."""
    end, free, fat_sector, none = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    data = stream + bytes(-len(stream) % 512)
    n = len(data) // 512
    fat = [fat_sector] + [i + 2 for i in range(n - 1)] + [end, end]
    fat += [free] * (128 - len(fat))

    def entry(name: str, kind: int, child: int = none, start: int = end, size: int = 0) -> bytes:
        raw = (name + "\x00").encode("utf-16-le") if name else b""
        return (
            raw.ljust(64, b"\x00")
            + struct.pack("<HBBIII", len(raw), kind, 1, none, none, child)
            + bytes(36)
            + struct.pack("<III", start, size, 0)
        )

    directory = entry("Root Entry", 5, child=1) + entry("Workbook", 2, start=1, size=len(stream))
    directory += entry("", 0) * 2
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + bytes(16)
        + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<IIIIIIIIII", 0, 1, n + 1, 0, 4096, end, 0, end, 0, 0)
        + struct.pack("<I", free) * 108
    )
    return header + struct.pack("<128I", *fat) + data + directory


def csv_bytes(rows: list[list], encoding: str = "utf-8") -> bytes:
    text = "\r\n".join(",".join("" if v is None else str(v) for v in row) for row in rows) + "\r\n"
    return text.encode(encoding)


def person_row(name, unit, id_number, **kw):
    values = {
        "职务": "科员",
        "职级": "科员及以下",
        "手机号码": "13900000000",
        "性别": "",
        "政治面貌": "群众",
        "入职日期": "2020-01-23",
        "离职日期": "",
        "是否第一责任人": "否",
        "是否联络员": "否",
    } | kw
    return [name, unit, *(values[h] for h in PEOPLE_HEADERS[2:5]), id_number] + [
        values[h] for h in PEOPLE_HEADERS[6:]
    ]


def db_counts():
    """Rows of the data and audit events of changes to it (not of the uploads themselves)."""
    return (
        OrgUnit.objects.count(),
        Person.objects.count(),
        FamilyMember.objects.count(),
        AuditEvent.objects.exclude(action="roster.upload").count(),
    )


def upload(client, name: str, data: bytes):
    url = reverse("org:roster_import")
    return client.post(url, {"file": SimpleUploadedFile(name, data)})


def uploaded(client, name: str, data: bytes) -> RosterUpload:
    r = upload(client, name, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    return RosterUpload.objects.get(pk=int(r["Location"].rstrip("/").rsplit("/", 1)[1]))


def confirm(client, up: RosterUpload):
    r = client.post(reverse("org:roster_preview", args=[up.pk]))
    assert r.status_code == 302
    up.refresh_from_db()
    return up


def problems(up: RosterUpload) -> list[tuple]:
    return [(e["sheet"], e["row"], e["column"], e["msgid"]) for e in up.summary["errors"]]


def plain_id(person: Person) -> str:
    return crypto.decrypt(person.id_number_encrypted)


def read_xlsx(data: bytes) -> dict[str, list[list]]:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def data_snapshot():
    """Everything an import could change, compared before and after a round trip."""
    units = list(
        OrgUnit.objects.order_by("code").values_list(
            "code",
            "name",
            "short_name",
            "level_id",
            "parent_id",
            "path",
            "opened_on",
            "closed_on",
            "first_responsible_id",
        )
    )
    liaisons = sorted(OrgUnit.liaisons.through.objects.values_list("orgunit_id", "person_id"))
    people = list(
        Person.objects.order_by("id").values_list(
            "id",
            "unit_id",
            "name",
            "gender",
            "post",
            "rank_id",
            "mobile",
            "id_number_hash",
            "id_number_encrypted",
            "political_status",
            "active_from",
            "left_on",
            "updated_at",
        )
    )
    family = list(
        FamilyMember.objects.order_by("id").values_list(
            "id", "person_id", "name", "relation", "lives_with", "birth_year"
        )
    )
    return units, liaisons, people, family


# --- A good workbook. ---


def test_good_xlsx_imports_units_people_and_family(world, client_for):
    c = client_for("city_coord")
    staff = world.people["staff"]
    id1, id2 = new_id(502), new_id(503, date(1988, 6, 1))
    data = xlsx(
        {
            "单位": [
                UNIT_HEADERS,
                ["HG-HZ-FK", "防控办公室", "防控办", "HG-HZ", "处室", date(2020, 1, 23), None],
                ["HG-MC", "麻城市审计局", "麻城局", "黄冈市审计局", "县局", "2020/1/23", None],
            ],
            "人员": [
                PEOPLE_HEADERS,
                person_row(
                    "吴敏",
                    "HG-HZ-FK",
                    id1,
                    性别="女",
                    政治面貌="中共党员",
                    入职日期="2020年1月23日",
                    是否第一责任人="是",
                    职级="正科级",
                ),
                person_row(
                    "郑强",
                    "防控办公室",
                    id2,
                    手机号码=13900000002,
                    是否联络员="是",
                    入职日期=date(2021, 3, 1),
                ),
                person_row(
                    "张伟",
                    "HG-HZ-ZH",
                    plain_id(staff),
                    职务="副科长",
                    职级="副科级",
                    手机号码=staff.mobile,
                ),
            ],
            "家庭成员": [
                FAMILY_HEADERS,
                [id1, "吴小明", "子女", "是", 2012],
                [id2, "王芳", "妻子", "否", "1988"],
            ],
        }
    )
    up = uploaded(c, "名册.xlsx", data)
    assert up.status == RosterUpload.Status.PREVIEWED, problems(up)
    assert up.sha256 == hashlib.sha256(data).hexdigest()
    assert up.summary["counts"] == {
        "units_new": 1,
        "units_updated": 1,
        "units_unchanged": 0,
        "people_new": 2,
        "people_updated": 1,
        "people_unchanged": 0,
        "family_new": 2,
        "family_unchanged": 0,
        "responsibles_updated": 1,
    }
    page = c.get(reverse("org:roster_preview", args=[up.pk])).content.decode()
    assert "确认导入" in page and "新增人员" in page
    assert b"420103" not in bytes(up.content)  # kept encrypted

    before = AuditEvent.objects.count()
    up = confirm(c, up)
    assert up.status == RosterUpload.Status.APPLIED
    assert bytes(up.content) == b""

    fk = OrgUnit.objects.get(code="HG-HZ-FK")
    assert fk.parent == world.units["HG-HZ"] and fk.path.startswith(world.units["HG-HZ"].path)
    assert fk.level.code == "division" and fk.opened_on == date(2020, 1, 23)
    mc = OrgUnit.objects.get(code="HG-MC")
    assert mc.short_name == "麻城局" and mc.opened_on == date(2020, 1, 23)
    wu = Person.objects.get(id_number_hash=crypto.keyed_hash(id1))
    zheng = Person.objects.get(id_number_hash=crypto.keyed_hash(id2))
    assert (wu.unit, wu.gender, wu.political_status, wu.rank.code) == (fk, "F", "cpc", "zheng_ke")
    assert (
        wu.active_from == date(2020, 1, 23) and wu.id_number_masked == "420***********" + id1[-4:]
    )
    assert zheng.mobile == "13900000002" and zheng.gender == "M"  # derived from the ID number
    assert zheng.active_from == date(2021, 3, 1)
    assert fk.first_responsible == wu and list(fk.liaisons.all()) == [zheng]
    staff.refresh_from_db()
    assert (staff.post, staff.rank.code) == ("副科长", "fu_ke")
    assert {
        (m.name, m.relation, m.lives_with, m.birth_year)
        for m in FamilyMember.objects.filter(person__in=[wu, zheng])
    } == {("吴小明", "child", True, 2012), ("王芳", "spouse", False, 1988)}

    events = list(AuditEvent.objects.order_by("id")[before:].values_list("action", flat=True))
    assert sorted(events) == sorted(
        [
            "unit.create",
            "unit.update",
            "person.create",
            "person.create",
            "person.update",
            "unit.responsibles",
            "family.add",
            "family.add",
            "roster.import",
        ]
    )
    imported = AuditEvent.objects.get(action="roster.import")
    assert imported.actor == world.users["city_coord"]
    assert imported.new["sha256"] == up.sha256 and imported.new["people_new"] == 2
    assert imported.new["file"] == "名册.xlsx"


def test_headers_below_a_title_synonyms_and_date_forms(world, client_for):
    c = client_for("county_liaison")
    data = xlsx(
        {
            "Sheet1": [
                ["黄州区审计局人员名册"],
                [],
                ["序号", "姓名", "所在单位", "证件号码", "手机", "入职时间", "备注"],
                [1, "甲一", "综合科", new_id(601), "139 0000 0601", date(2020, 1, 23), "x"],
                [2, "甲二", "HG-HZ-ZH", new_id(602).lower(), "+8613900000602", "2020/1/23", ""],
                [3, "甲三", "HG-HZ-ZH", new_id(603), "", "2020年1月23日", ""],
                [4, "甲四", "HG-HZ-ZH", new_id(604), "", 20200123, ""],
            ]
        }
    )
    up = confirm(c, uploaded(c, "a.xlsx", data))
    assert up.status == RosterUpload.Status.APPLIED, problems(up)
    people = {p.name: p for p in Person.objects.filter(name__startswith="甲")}
    assert [p.active_from for p in people.values()] == [date(2020, 1, 23)] * 4
    assert (people["甲一"].mobile, people["甲二"].mobile) == ("13900000601", "13900000602")
    assert {p.unit.code for p in people.values()} == {"HG-HZ-ZH"}


def test_xls_workbook_imports(world, client_for):
    c = client_for("city_coord")
    number = new_id(710)
    data = xls(
        {
            "人员": [
                PEOPLE_HEADERS[:6] + ["入职日期"],
                ["赵六", "综合科", "科员", "科员及以下", 13900000710, number, "2020年1月23日"],
            ],
            "家庭成员": [FAMILY_HEADERS, [number, "赵小六", "子女", "是", 2016]],
        }
    )
    assert data[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    up = confirm(c, uploaded(c, "名册.xls", data))
    assert up.status == RosterUpload.Status.APPLIED, problems(up)
    person = Person.objects.get(id_number_hash=crypto.keyed_hash(number))
    assert (person.name, person.mobile, person.active_from) == (
        "赵六",
        "13900000710",
        date(2020, 1, 23),
    )
    assert person.family.get().birth_year == 2016


# --- CSV encodings. ---


@pytest.mark.parametrize(
    ("encoding", "name"),
    [("gbk", "欧阳娜"), ("gb18030", "王䶮"), ("utf-8-sig", "李雷"), ("utf-8", "韩梅梅")],
)
def test_csv_encodings_import(world, client_for, encoding, name):
    c = client_for("city_coord")
    number = new_id(700)
    data = csv_bytes(
        [["姓名", "单位", "身份证号", "手机号码"], [name, "综合科", number, "13900000700"]],
        encoding,
    )
    if encoding == "gb18030":
        with pytest.raises(UnicodeEncodeError):
            name.encode("gbk")  # the test really needs GB18030
    up = confirm(c, uploaded(c, "people.csv", data))
    assert up.status == RosterUpload.Status.APPLIED, problems(up)
    person = Person.objects.get(id_number_hash=crypto.keyed_hash(number))
    assert person.name == name and person.unit.code == "HG-HZ-ZH"


def test_csv_family_only_file_is_recognised_by_headers(world, client_for):
    c = client_for("county_liaison")
    data = csv_bytes(
        [
            ["职工身份证号", "姓名", "关系", "出生年份"],
            [plain_id(world.people["staff"]), "张爷爷", "爷爷", 1950],
        ]
    )
    up = confirm(c, uploaded(c, "家属.csv", data))
    assert up.status == RosterUpload.Status.APPLIED, problems(up)
    member = FamilyMember.objects.get(name="张爷爷")
    assert (member.person, member.relation, member.lives_with) == (
        world.people["staff"],
        "grandparent",
        True,
    )


def test_template_download_and_upload(world, client_for):
    c = client_for("city_coord")
    r = c.get(reverse("org:roster_import") + "?template=1")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    book = read_xlsx(r.content)
    assert list(book) == ["单位", "人员", "家庭成员", "说明"]
    assert book["单位"][0] == UNIT_HEADERS
    assert book["人员"][0] == [*PEOPLE_HEADERS, "工号"]  # 工号 is optional in uploads
    assert book["家庭成员"][0][:1] == ["职工身份证号"]
    up = uploaded(c, "模板.xlsx", r.content)
    assert up.status == RosterUpload.Status.PREVIEWED, problems(up)
    assert up.summary["skipped_sheets"] == ["说明"]
    counts = up.summary["counts"]
    assert (counts["units_new"], counts["people_new"], counts["family_new"]) == (1, 1, 1)


# --- Bad files: rejected with row and column, nothing written. ---


def _people_csv(*rows):
    return csv_bytes([PEOPLE_HEADERS, *rows])


BAD_CASES = {
    "missing_column": (
        lambda w: csv_bytes([["姓名", "单位"], ["某某", "HG-HZ"]]),
        ("人员", 1, "身份证号", roster.ERR_MISSING_COLUMN),
    ),
    "duplicate_id_in_file": (
        lambda w: _people_csv(
            person_row("甲", "HG-HZ", new_id(801)), person_row("乙", "HG-HZ", new_id(801))
        ),
        ("人员", 3, "身份证号", roster.ERR_ID_DUPLICATE_IN_FILE),
    ),
    "id_of_someone_else_in_db": (
        lambda w: _people_csv(person_row("甲", "HG-HZ", plain_id(w.people["xn_clerk"]))),
        ("人员", 2, "身份证号", roster.ERR_ID_TAKEN),
    ),
    "check_digit": (
        lambda w: _people_csv(
            person_row("甲", "HG-HZ", new_id(802)[:17] + ("0" if new_id(802)[17] != "0" else "1"))
        ),
        ("人员", 2, "身份证号", roster.ERR_ID_CHECK),
    ),
    "id_as_excel_number": (
        lambda w: xlsx({"人员": [PEOPLE_HEADERS[:6], ["甲", "HG-HZ", "", "", "", 4.2e17]]}),
        ("人员", 2, "身份证号", roster.ERR_ID_NUMBER_CELL),
    ),
    "unknown_parent": (
        lambda w: csv_bytes([UNIT_HEADERS, ["HG-NEW", "新单位", "", "NOPE", "处室", "", ""]]),
        ("单位", 2, "上级单位", roster.ERR_PARENT_UNKNOWN),
    ),
    "unknown_unit_for_person": (
        lambda w: _people_csv(person_row("甲", "不存在的单位", new_id(803))),
        ("人员", 2, "单位", roster.ERR_UNIT_UNKNOWN),
    ),
    "unknown_rank": (
        lambda w: _people_csv(person_row("甲", "HG-HZ", new_id(804), 职级="巡视员")),
        ("人员", 2, "职级", roster.ERR_RANK_UNKNOWN),
    ),
    "unknown_level": (
        lambda w: csv_bytes([UNIT_HEADERS, ["HG-NEW", "新单位", "", "HG", "乡镇", "", ""]]),
        ("单位", 2, "层级", roster.ERR_LEVEL_UNKNOWN),
    ),
    "unit_cycle": (
        lambda w: xlsx(
            {
                "单位": [
                    UNIT_HEADERS,
                    ["HG-HZ", "黄州区审计局", "", "HG-HZ-ZH", "县局", None, None],
                ]
            }
        ),
        ("单位", 2, "上级单位", roster.ERR_CYCLE),
    ),
    "bad_date": (
        lambda w: _people_csv(person_row("甲", "HG-HZ", new_id(805), 入职日期="2020-13-45")),
        ("人员", 2, "入职日期", roster.ERR_DATE),
    ),
    "closing_before_opening": (
        lambda w: csv_bytes(
            [UNIT_HEADERS, ["HG-NEW", "新单位", "", "HG", "处室", "2021-01-01", "2020-01-01"]]
        ),
        ("单位", 2, "撤销日期", roster.ERR_DATE_ORDER),
    ),
    "bad_mobile": (
        lambda w: _people_csv(person_row("甲", "HG-HZ", new_id(806), 手机号码="2390000000")),
        ("人员", 2, "手机号码", roster.ERR_MOBILE),
    ),
    "masked_id_for_new_person": (
        lambda w: _people_csv(person_row("新人", "HG-HZ", "420***********1234")),
        ("人员", 2, "身份证号", roster.ERR_ID_MASKED_UNKNOWN),
    ),
    "masked_id_that_does_not_match": (
        lambda w: _people_csv(person_row("张伟", "HG-HZ-ZH", "420***********0000")),
        ("人员", 2, "身份证号", roster.ERR_ID_MASKED_MISMATCH),
    ),
    "two_first_responsibles": (
        lambda w: _people_csv(
            person_row("甲", "HG-HZ", new_id(807), 是否第一责任人="是"),
            person_row("乙", "HG-HZ", new_id(808), 是否第一责任人="是"),
        ),
        ("人员", 3, "是否第一责任人", roster.ERR_TWO_RESPONSIBLES),
    ),
    "bad_relation": (
        lambda w: csv_bytes(
            [FAMILY_HEADERS, [plain_id(w.people["staff"]), "某", "邻居", "是", ""]]
        ),
        ("家庭成员", 2, "关系", roster.ERR_CHOICE),
    ),
    "family_of_unknown_person": (
        lambda w: csv_bytes([FAMILY_HEADERS, [new_id(809), "某", "配偶", "是", ""]]),
        ("家庭成员", 2, "职工身份证号", roster.ERR_FAMILY_PERSON_UNKNOWN),
    ),
    "wrong_encoding": (
        lambda w: "姓名,单位,身份证号\n".encode() + b"\x80\xff\x80,\xff\xfe\x81,1\n",
        ("", None, "", roster.ERR_ENCODING),
    ),
    "not_a_roster": (
        lambda w: "这是一封信。\n没有表头。\n".encode(),
        ("", None, "", roster.ERR_NO_HEADERS),
    ),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_file_is_rejected_and_nothing_changes(world, client_for, case):
    build, expected = BAD_CASES[case]
    c = client_for("city_coord")
    data = build(world)
    before = db_counts()
    name = "bad.xlsx" if data[:2] == b"PK" else "bad.csv"
    up = uploaded(c, name, data)
    assert up.status == RosterUpload.Status.FAILED
    assert expected in problems(up), problems(up)
    assert bytes(up.content) == b""  # a failed file's personal data is not kept
    page = c.get(reverse("org:roster_preview", args=[up.pk])).content.decode()
    assert "确认导入" not in page
    problem = next(
        roster.problem_from_json(e) for e in up.summary["errors"] if e["msgid"] == expected[3]
    )
    assert problem.message in page
    # Confirming anyway does nothing.
    confirm(c, up)
    assert up.status == RosterUpload.Status.FAILED
    assert db_counts() == before


def test_problem_wording_names_sheet_row_and_column(world, client_for):
    c = client_for("city_coord")
    rows = [person_row(f"人{i}", "HG-HZ", new_id(900 + i)) for i in range(10)]
    bad = new_id(950)
    rows.append(person_row("错号", "HG-HZ", bad[:17] + ("1" if bad[17] == "0" else "0")))
    up = uploaded(c, "p.csv", _people_csv(*rows))
    assert [str(roster.problem_from_json(e)) for e in up.summary["errors"]] == [
        "人员 第12行「身份证号」：校验位不正确，请核对。"
    ]


def test_five_megabytes_of_random_bytes(world, client_for):
    c = client_for("city_coord")
    data = random.Random(1).randbytes(5 * 1024 * 1024)
    before = db_counts()
    started = time.monotonic()
    up = uploaded(c, "名册.xlsx", data)
    assert time.monotonic() - started < 3
    assert problems(up) == [("", None, "", roster.ERR_GARBAGE)]
    assert db_counts() == before


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + random.Random(2).randbytes(50_000),  # a picture renamed
        b"%PDF-1.4\n" + random.Random(3).randbytes(50_000),
        bytes.fromhex("D0CF11E0A1B11AE1") + random.Random(4).randbytes(50_000),  # broken .xls
    ],
    ids=["png", "pdf", "ole"],
)
def test_renamed_binaries_are_rejected(world, client_for, data):
    up = uploaded(client_for("city_coord"), "名册.xlsx", data)
    assert problems(up) == [("", None, "", roster.ERR_GARBAGE)]


def test_zip_that_is_not_a_workbook_and_a_truncated_workbook(world, client_for):
    c = client_for("city_coord")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert problems(uploaded(c, "a.xlsx", buf.getvalue())) == [("", None, "", roster.ERR_GARBAGE)]
    good = xlsx({"人员": [PEOPLE_HEADERS, person_row("甲", "HG-HZ", new_id(990))]})
    half = good[: len(good) // 2]
    assert problems(uploaded(c, "b.xlsx", half)) == [("", None, "", roster.ERR_GARBAGE)]


def test_zip_bomb_is_refused_before_inflating(world, client_for, settings):
    settings.SHEET_MAX_UNPACKED_BYTES = 1024 * 1024  # the one limit of lib/sheets.py
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<x/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\x00" * (2 * 1024 * 1024))
    up = uploaded(client_for("city_coord"), "bomb.xlsx", buf.getvalue())
    assert [p[3] for p in problems(up)] == [roster.ERR_TOO_LARGE]


def test_too_large_is_refused_before_parsing(world, client_for, settings, monkeypatch):
    settings.ROSTER_MAX_BYTES = 2048

    def must_not_parse(*args, **kwargs):
        raise AssertionError("parsed an oversized file")

    monkeypatch.setattr(roster, "analyse", must_not_parse)
    c = client_for("city_coord")
    before = (RosterUpload.objects.count(), *db_counts())
    message = roster.ERR_TOO_LARGE.format(limit=1)
    r = upload(c, "big.csv", b"a" * 4096)  # over the limit, within the multipart slack
    assert r.status_code == 200 and message in r.content.decode()
    r = upload(c, "huge.csv", b"a" * 200_000)  # turned away on Content-Length alone
    assert r.status_code == 413 and message in r.content.decode()
    assert (RosterUpload.objects.count(), *db_counts()) == before


def test_header_only_file(world, client_for):
    up = uploaded(client_for("city_coord"), "p.csv", csv_bytes([PEOPLE_HEADERS]))
    assert problems(up) == [("", None, "", roster.ERR_NO_ROWS)]


def test_error_list_is_capped(world, client_for):
    c = client_for("city_coord")
    rows = [person_row(f"人{i}", "HG-HZ", new_id(i), 手机号码="12345") for i in range(250)]
    up = uploaded(c, "p.csv", _people_csv(*rows))
    assert up.summary["error_count"] == 250 and len(up.summary["errors"]) == roster.MAX_ERRORS
    page = c.get(reverse("org:roster_preview", args=[up.pk])).content.decode()
    assert "另有 50 个问题未列出" in page


# --- Scope. ---


def test_city_coordinator_cannot_import_into_a_sibling_city(world, client_for):
    c = client_for("city_coord")
    before = db_counts()
    data = xlsx(
        {
            "单位": [
                UNIT_HEADERS,
                ["XG-NEW", "孝感新单位", "", "XG", "处室", None, None],
                ["XG-XN", "孝南区审计局（改）", "", "", "", None, None],
                ["HG-ROOT", "新顶级单位", "", "", "省厅", None, None],
            ],
            "人员": [
                PEOPLE_HEADERS,
                person_row("甲", "XG", new_id(1001)),
                person_row("乙", "孝感市审计局", new_id(1002)),
                person_row("丙", "并不存在", new_id(1003)),
                person_row("丁", "孝南区审计局", new_id(1004)),
            ],
        }
    )
    up = uploaded(c, "x.xlsx", data)
    found = problems(up)
    assert ("单位", 2, "上级单位", roster.ERR_PARENT_UNKNOWN) in found
    assert ("单位", 3, "单位编码", roster.ERR_UNIT_OUT_OF_SCOPE) in found
    assert ("单位", 4, "上级单位", roster.ERR_ROOT_NOT_ALLOWED) in found
    # A sibling city's unit reads exactly like a unit that does not exist.
    for row in (2, 3, 4, 5):
        assert ("人员", row, "单位", roster.ERR_UNIT_UNKNOWN) in found
    page = c.get(reverse("org:roster_preview", args=[up.pk])).content.decode()
    assert "孝南区审计局（改）" not in page and "XG-XN" not in page
    assert db_counts() == before
    assert c.get(reverse("org:roster_export") + "?unit=XG").status_code == 404
    assert c.get(reverse("org:roster_export") + "?unit=XG-XN").status_code == 404
    assert c.get(reverse("org:roster_export") + "?unit=NOPE").status_code == 404


def test_admin_may_create_a_root_unit(world, client_for):
    c = client_for("admin")
    data = csv_bytes([UNIT_HEADERS, ["NEW-ROOT", "新顶级单位", "", "", "省厅", "", ""]])
    up = confirm(c, uploaded(c, "u.csv", data))
    assert up.status == RosterUpload.Status.APPLIED, problems(up)
    assert OrgUnit.objects.get(code="NEW-ROOT").parent is None


def test_liaison_imports_only_below_their_unit(world, client_for):
    c = client_for("county_liaison")
    ok = _people_csv(person_row("甲", "综合科", new_id(1101)))
    assert uploaded(c, "a.csv", ok).status == RosterUpload.Status.PREVIEWED
    bad = _people_csv(person_row("甲", "HG-MC", new_id(1102)))
    assert problems(uploaded(c, "b.csv", bad)) == [("人员", 2, "单位", roster.ERR_UNIT_UNKNOWN)]


def test_pages_need_a_roster_role_and_uploads_are_private(world, client_for):
    assert client_for("staff").get(reverse("org:roster_import")).status_code == 404
    assert client_for("city_coord").get(reverse("org:roster_import")).status_code == 200
    up = uploaded(
        client_for("city_coord"), "p.csv", _people_csv(person_row("甲", "HG", new_id(1201)))
    )
    url = reverse("org:roster_preview", args=[up.pk])
    for persona in ["outsider", "prov_coord", "admin", "county_liaison", "staff"]:
        assert client_for(persona).get(url).status_code == 404, persona
        assert client_for(persona).post(url).status_code == 404, persona
    up.refresh_from_db()
    assert up.status == RosterUpload.Status.PREVIEWED
    with pytest.raises(PermissionDenied):
        services.roster_import_apply(actor=world.users["prov_coord"], upload=up)


# --- Export and round trip. ---


def test_export_masks_personal_data_and_is_audited(world, client_for):
    c = client_for("city_coord")
    r = c.get(reverse("org:roster_export") + "?unit=HG")
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    assert "attachment" in r["Content-Disposition"]
    book = read_xlsx(r.content)
    assert list(book) == ["单位", "人员", "家庭成员"]
    exported = [*PEOPLE_HEADERS, "工号"]
    assert book["单位"][0] == UNIT_HEADERS and book["人员"][0] == exported
    assert {row[0] for row in book["单位"][1:]} == {"HG", "HG-HZ", "HG-HZ-ZH", "HG-MC"}
    people = {row[0]: dict(zip(exported, row, strict=True)) for row in book["人员"][1:]}
    assert set(people) == {"李红梅", "陈晓东", "刘志强", "张伟", "周杰"}  # nobody from XG
    staff = world.people["staff"]
    assert people["张伟"]["身份证号"] == staff.id_number_masked and "*" in staff.id_number_masked
    assert people["张伟"]["手机号码"] == staff.mobile[:3] + "****" + staff.mobile[-4:]
    assert people["刘志强"]["是否第一责任人"] == "是" and people["陈晓东"]["是否联络员"] == "是"
    text = repr(book)
    for p in Person.objects.all():
        assert plain_id(p) not in text and p.mobile not in text
    event = AuditEvent.objects.get(action="roster.export")
    assert event.actor == world.users["city_coord"]
    assert event.new == {"unit": "HG", "units": 4, "people": 5, "family": 2}
    assert (
        client_for("outsider").get(reverse("org:roster_export") + "?unit=HG-HZ").status_code == 404
    )


def test_export_then_reimport_changes_nothing(world, client_for):
    c = client_for("city_coord")
    exported = c.get(reverse("org:roster_export") + "?unit=HG").content
    before = data_snapshot()
    events_before = AuditEvent.objects.count()
    up = uploaded(c, "导出.xlsx", exported)
    assert up.status == RosterUpload.Status.PREVIEWED, problems(up)
    assert up.summary["counts"] == dict.fromkeys(roster.COUNT_KEYS, 0) | {
        "units_unchanged": 4,
        "people_unchanged": 5,
        "family_unchanged": 2,
    }
    up = confirm(c, up)
    assert up.status == RosterUpload.Status.APPLIED
    assert data_snapshot() == before
    assert list(
        AuditEvent.objects.order_by("id")[events_before:].values_list("action", flat=True)
    ) == ["roster.upload", "roster.import"]


def test_edited_export_updates_people_matched_by_unit_and_name(world, client_for):
    c = client_for("city_coord")
    book = read_xlsx(c.get(reverse("org:roster_export") + "?unit=HG-HZ").content)
    people = book["人员"]
    post = PEOPLE_HEADERS.index("职务")
    for row in people[1:]:
        if row[0] == "张伟":
            row[post] = "综合科副科长"
    up = confirm(c, uploaded(c, "edited.xlsx", xlsx({"人员": people})))
    assert up.status == RosterUpload.Status.APPLIED, problems(up)
    assert up.summary["counts"]["people_updated"] == 1
    staff = Person.objects.get(pk=world.people["staff"].pk)
    assert staff.post == "综合科副科长"
    assert staff.mobile == world.people["staff"].mobile  # the masked number meant "keep"
    assert staff.id_number_hash == world.people["staff"].id_number_hash


def test_moving_a_liaison_out_of_the_unit_drops_the_role(world, client_for):
    c = client_for("city_coord")
    liaison = world.people["county_liaison"]
    data = _people_csv(person_row("陈晓东", "HG-MC", plain_id(liaison), 职务="联络员"))
    up = confirm(c, uploaded(c, "move.csv", data))
    assert up.status == RosterUpload.Status.APPLIED, problems(up)
    assert Person.objects.get(pk=liaison.pk).unit.code == "HG-MC"
    assert not world.units["HG-HZ"].liaisons.filter(pk=liaison.pk).exists()
    assert (
        AuditEvent.objects.filter(
            action="unit.responsibles", object_id=str(world.units["HG-HZ"].pk)
        ).count()
        == 2
    )


# --- Confirming. ---


def test_posts_need_the_csrf_token(world):
    c = Client(enforce_csrf_checks=True)
    c.force_login(world.users["city_coord"])
    data = _people_csv(person_row("甲", "HG-HZ", new_id(1250)))
    r = c.post(reverse("org:roster_import"), {"file": SimpleUploadedFile("p.csv", data)})
    assert r.status_code == 403
    assert not RosterUpload.objects.exists()
    up = services.roster_upload_create(actor=world.users["city_coord"], name="p.csv", data=data)
    assert c.post(reverse("org:roster_preview", args=[up.pk])).status_code == 403
    up.refresh_from_db()
    assert up.status == RosterUpload.Status.PREVIEWED


def test_stored_file_that_cannot_be_decrypted(world, client_for):
    c = client_for("city_coord")
    up = uploaded(c, "p.csv", _people_csv(person_row("甲", "HG-HZ", new_id(1260))))
    RosterUpload.objects.filter(pk=up.pk).update(content=b"not a token")
    before = db_counts()
    up = confirm(c, up)
    assert up.status == RosterUpload.Status.FAILED
    assert problems(up) == [("", None, "", roster.ERR_UPLOAD_UNREADABLE)]
    assert db_counts() == before


def test_double_confirm_imports_once(world, client_for):
    c = client_for("city_coord")
    data = _people_csv(
        person_row("甲", "HG-HZ", new_id(1301)), person_row("乙", "HG", new_id(1302))
    )
    up = uploaded(c, "p.csv", data)
    people = Person.objects.count()
    url = reverse("org:roster_preview", args=[up.pk])
    assert c.post(url).status_code == 302
    r = c.post(url, follow=True)
    assert "该文件已经处理过，不会重复导入。" in r.content.decode()
    assert Person.objects.count() == people + 2
    assert AuditEvent.objects.filter(action="roster.import").count() == 1
    assert AuditEvent.objects.filter(action="person.create").count() == 8 + 2


def test_import_is_all_or_nothing(world, client_for, monkeypatch):
    c = client_for("city_coord")
    data = xlsx(
        {
            "人员": [PEOPLE_HEADERS, person_row("甲", "HG-HZ", new_id(1401))],
            "家庭成员": [FAMILY_HEADERS, [new_id(1401), "甲妻", "配偶", "是", 1990]],
        }
    )
    up = uploaded(c, "p.xlsx", data)
    before = db_counts()

    def fail(**kwargs):
        raise ValidationError("并发修改")

    monkeypatch.setattr(services, "family_member_add_many", fail)
    up = confirm(c, up)
    assert up.status == RosterUpload.Status.FAILED
    assert [p[3] for p in problems(up)] == [roster.ERR_APPLY_FAILED]
    assert db_counts() == before


def test_data_changed_after_preview_is_checked_again(world, client_for):
    c = client_for("city_coord")
    number = new_id(1501)
    up = uploaded(c, "p.csv", _people_csv(person_row("甲", "HG-HZ", number)))
    services.person_create(
        actor=world.users["admin"], unit=world.units["XG"], name="抢先", id_number=number
    )
    up = confirm(c, up)
    assert up.status == RosterUpload.Status.FAILED
    assert problems(up) == [("人员", 2, "身份证号", roster.ERR_ID_TAKEN)]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL; SQLite serialises writers"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_confirms_import_once():
    from django.db import connections
    from django.test import Client

    from tests.world import build_world

    world = build_world()
    c = Client()
    c.force_login(world.users["city_coord"])
    data = _people_csv(*[person_row(f"并{i}", "HG-HZ", new_id(1600 + i)) for i in range(30)])
    up = uploaded(c, "p.csv", data)
    people = Person.objects.count()
    barrier = threading.Barrier(3)
    codes = []

    def submit():
        client = Client()
        client.force_login(world.users["city_coord"])
        barrier.wait()
        try:
            codes.append(client.post(reverse("org:roster_preview", args=[up.pk])).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [302, 302, 302]
    assert Person.objects.count() == people + 30
    assert AuditEvent.objects.filter(action="roster.import").count() == 1


# --- Performance. ---


def test_five_thousand_people(world, client_for, django_assert_max_num_queries):
    c = client_for("prov_coord")
    units = [["单位编码", "单位名称", "上级单位", "层级"]] + [
        [f"HB-K{i:02d}", f"第{i}科", "HB-BGS", "处室"] for i in range(20)
    ]
    people = [["姓名", "单位", "职级", "手机号码", "身份证号", "入职日期"]] + [
        [
            f"职工{i}",
            f"HB-K{i % 20:02d}",
            "科员及以下",
            f"139{i:08d}",
            new_id(i, date(1980 + i % 20, 1 + i % 12, 1 + i % 28)),
            "2020-01-23",
        ]
        for i in range(5000)
    ]
    data = xlsx({"单位": units, "人员": people})
    started = time.monotonic()
    with django_assert_max_num_queries(80):
        up = uploaded(c, "big.xlsx", data)
    checked = time.monotonic() - started
    assert up.status == RosterUpload.Status.PREVIEWED, problems(up)[:5]
    assert up.summary["counts"]["people_new"] == 5000
    started = time.monotonic()
    up = confirm(c, up)
    applied = time.monotonic() - started
    assert up.status == RosterUpload.Status.APPLIED
    assert Person.objects.filter(unit__code__startswith="HB-K").count() == 5000
    print(f"\n5,000 people: checked in {checked:.2f}s, imported in {applied:.2f}s")
    assert checked < 5
    assert applied < 60


# --- UTF-16 text files (Excel's "Unicode text", and tools that write no BOM). ---


def unicode_text(rows: list[list[str]], encoding: str, bom: bytes = b"") -> bytes:
    """Tab-separated lines, fields with a tab or quote quoted, as Excel saves "Unicode text"."""
    buf = io.StringIO()
    csv.writer(buf, delimiter="\t", lineterminator="\r\n").writerows(rows)
    return bom + buf.getvalue().encode(encoding)


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-16-le", b""),
        ("utf-16-be", b""),
    ],
    ids=["le-bom", "be-bom", "le", "be"],
)
def test_utf16_unicode_text_imports(world, client_for, encoding, bom):
    c = client_for("city_coord")
    number = new_id(710)
    rows = [
        ["黄州区审计局职工名册"],  # a title line, with no tab in it, above the header
        ["姓名", "单位", "身份证号", "手机号码", "职务"],
        # 一 is U+4E00: in UTF-16 one of its bytes is zero, on the other side from the digits'.
        ["一丁", "综合科", number, "13900000710", "科员\t（兼）"],
    ]
    up = confirm(c, uploaded(c, "名册.txt", unicode_text(rows, encoding, bom)))
    assert up.status == RosterUpload.Status.APPLIED, problems(up)
    person = Person.objects.get(id_number_hash=crypto.keyed_hash(number))
    assert (person.name, person.unit.code, person.post) == ("一丁", "HG-HZ-ZH", "科员\t（兼）")


def test_binary_that_looks_like_utf16_is_still_refused(world, client_for):
    # Zero bytes all on one side, like UTF-16 text, but the other bytes are control codes.
    data = bytes(b for i in range(20_000) for b in (i % 32, 0))
    up = uploaded(client_for("city_coord"), "名册.csv", data)
    assert problems(up) == [("", None, "", roster.ERR_GARBAGE)]


# --- Every upload on record: previews and refusals, without the file's content. ---


def upload_events() -> list[dict]:
    return [e.new for e in AuditEvent.objects.filter(action="roster.upload").order_by("id")]


def test_previews_and_refused_uploads_are_audited(world, client_for, settings):
    c = client_for("city_coord")
    number = new_id(720)
    good = csv_bytes(
        [["姓名", "单位", "身份证号", "手机号码"], ["赵云", "综合科", number, "13900000720"]]
    )
    bad = csv_bytes(
        [["姓名", "单位", "身份证号"], ["马超", "综合科", number[:17]], ["黄忠", "", ""]]
    )
    up_good = uploaded(c, "good.csv", good)
    up_bad = uploaded(c, "bad.csv", bad)
    liaison = client_for("county_liaison")
    up_garbage = uploaded(liaison, "photo.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    admin = client_for("admin")
    up_admin = uploaded(admin, "letter.csv", "这是一封信。\n没有表头。\n".encode())
    settings.ROSTER_MAX_BYTES = 2048
    big = b"a" * 4096
    assert upload(c, "big.csv", big).status_code == 200  # over the limit, within the slack
    assert upload(c, "huge.csv", b"a" * 200_000).status_code == 413  # on Content-Length alone

    def facts(up, outcome, errors, units):
        return {
            "file": up.original_name,
            "size": up.size,
            "sha256": up.sha256,
            "outcome": outcome,
            "errors": errors,
            "units": units,
        }

    events = upload_events()
    assert events[:4] == [
        facts(up_good, "previewed", 0, ["HG"]),
        facts(up_bad, "refused", up_bad.summary["error_count"], ["HG"]),
        facts(up_garbage, "refused", 1, ["HG-HZ"]),
        facts(up_admin, "refused", 1, ["*"]),
    ]
    assert up_bad.summary["error_count"] >= 2
    assert events[4] == {
        "file": "big.csv",
        "size": 4096,
        "sha256": hashlib.sha256(big).hexdigest(),
        "outcome": "too_large",
        "errors": 1,
        "units": ["HG"],
    }
    assert events[5]["outcome"] == "too_large" and events[5]["file"] == ""
    assert events[5]["size"] > 200_000 and events[5]["sha256"] == ""
    assert len(events) == 6
    rows = list(AuditEvent.objects.filter(action="roster.upload").order_by("id"))
    assert [e.actor_name for e in rows] == ["city_coord"] * 2 + ["county_liaison", "admin"] + [
        "city_coord"
    ] * 2
    assert (rows[0].object_type, rows[0].object_id) == ("org.rosterupload", str(up_good.pk))
    # Nothing of the content: no ID number, mobile or name from the files.
    recorded = " ".join(f"{e.new} {e.detail} {e.object_repr}" for e in rows)
    for secret in (number, number[:17], "13900000720", "赵云", "马超", "黄忠"):
        assert secret not in recorded


def test_staff_numbers_are_imported_unique_and_exported(world, client_for):
    from fangkong.org.roster import ERR_STAFF_NUMBER_DUPLICATE_IN_FILE, ERR_STAFF_NUMBER_TAKEN

    headers = [*PEOPLE_HEADERS[:6], "工号"]
    world.people["staff"].staff_number = "HZ0001"
    world.people["staff"].save(update_fields=["staff_number"])
    c = client_for("city_coord")
    twice = csv_bytes(
        [headers, ["甲", "HG-HZ", "", "", "", new_id(981), "HZ0009"],
         ["乙", "HG-HZ", "", "", "", new_id(982), "HZ0009"],
         ["丙", "HG-HZ", "", "", "", new_id(983), "HZ0001"]]
    )  # fmt: skip
    up = uploaded(c, "p.csv", twice)
    assert sorted(problems(up)) == [
        ("人员", 3, "工号", ERR_STAFF_NUMBER_DUPLICATE_IN_FILE),
        ("人员", 4, "工号", ERR_STAFF_NUMBER_TAKEN),
    ]
    good = csv_bytes([headers, ["甲", "HG-HZ", "", "", "", new_id(981), "HZ0009"]])
    confirm(c, uploaded(c, "p.csv", good))
    assert Person.objects.get(name="甲").staff_number == "HZ0009"
    book = read_xlsx(c.get("/org/roster/export/?unit=HG-HZ").content)
    column = book["人员"][0].index("工号")
    assert "HZ0009" in [row[column] for row in book["人员"][1:]]
