"""Every Excel and CSV the product writes: hostile text comes out as text, never as a formula.

Names, posts, notes and ledger values that start with =, +, -, @, a tab or a carriage return are
planted wherever a user (or an imported file) can put text; each export is downloaded as a user
would, opened with openpyxl (xlsx) or the csv module, and no cell may be a formula or a text that
starts with one of those characters. New exports are found by themselves: every module that writes
a spreadsheet must do it through `fangkong/lib/spreadsheet_out.py` (checked below), and every module
that uses it must have a case here.
"""

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from fangkong.lib import spreadsheet_out
from fangkong.lib.spreadsheet_out import FORMULA_PREFIXES, neutralise, restore
from fangkong.org.models import FamilyMember, OrgUnit, Person, RosterUpload

ROOT = Path(__file__).resolve().parent.parent
SH = ZoneInfo("Asia/Shanghai")
D = date(2020, 2, 3)

HOSTILE = [
    '=HYPERLINK("http://evil.example/","点我")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
]
# Printable ones, for places where a service or an importer would trim or refuse control characters.
PRINTABLE = HOSTILE[:4]

# Writers of product files must go through the helper. Reading (csv.reader, calamine) is fine.
WRITERS = re.compile(
    r"^\s*(import|from)\s+(xlsxwriter|openpyxl)\b|\bcsv\.(writer|DictWriter)\s*\(", re.M
)
HELPER = "fangkong/lib/spreadsheet_out.py"
ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
NUMBER = re.compile(r"-?\d+(\.\d+)?")
# The synthetic relief ledgers are raw input for the importer (tests, harness and demo), written
# the way relief bodies' own systems write them; they are not a product export.
# Synthetic test-data generators write ledgers as offices do (formulas included): not product output.
NOT_EXPORTS = {
    "fangkong/relief/synthetic/ledgers.py",
    "fangkong/relief/synthetic/independent/output.py",
}


def modules(pattern: re.Pattern) -> set[str]:
    return {
        str(p.relative_to(ROOT))
        for p in (ROOT / "fangkong").rglob("*.py")
        if pattern.search(p.read_text(encoding="utf-8"))
    }


# --- The helper itself. ---


def test_neutralise_and_restore():
    assert [neutralise(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert [restore(neutralise(v)) for v in HOSTILE] == HOSTILE
    for plain in ["张伟", "13800000000", "2020-02-03", "'引号开头", " =空格开头", "", "a=b"]:
        assert neutralise(plain) == plain and restore(plain) == plain


def test_workbook_keeps_numbers_and_dates_typed():
    book = spreadsheet_out.Workbook()
    border = book.add_format({"border": 1})
    ws = book.add_worksheet("表")
    ws.write_row(
        0,
        0,
        [
            "-2+3",
            -5,
            Decimal("1234.50"),
            2.5,
            D,
            datetime(2020, 2, 3, 2, 30, tzinfo=UTC),
            None,
            True,
        ],
    )
    ws.write(1, 0, D, border)  # a border format on a date cell still shows a date
    ws.merge_range(2, 0, 2, 3, "=1+1", border)
    wb = load_workbook(io.BytesIO(book.close()))
    row = [c for c in wb.active[1]]
    assert [c.value for c in row[:4]] == ["'-2+3", -5, 1234.5, 2.5]
    assert [c.data_type for c in row[:4]] == ["s", "n", "n", "n"]
    assert row[4].value == datetime(2020, 2, 3) and row[4].number_format == "yyyy-mm-dd"
    assert row[5].value == datetime(2020, 2, 3, 10, 30)  # shown in Beijing time
    assert row[6].value is None and row[7].value is True
    assert wb.active["A2"].number_format == "yyyy-mm-dd" and wb.active["A2"].border.left.style
    assert wb.active["A3"].value == "'=1+1" and "A3:D3" in wb.active.merged_cells


def test_csv_keeps_numbers_and_neutralises_text():
    data = spreadsheet_out.csv_bytes(
        [["姓名", "金额", "日期"], *[[h, Decimal("-1.50"), D] for h in HOSTILE]]
    )
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["姓名", "金额", "日期"]
    assert [r[0] for r in rows[1:]] == ["'" + h for h in HOSTILE]
    assert {(r[1], r[2]) for r in rows[1:]} == {("-1.50", "2020-02-03")}
    assert_safe_csv(data)


# --- Checking a file. ---


def cells_of_xlsx(data: bytes):
    book = load_workbook(io.BytesIO(data))
    for ws in book.worksheets:
        for row in ws.iter_rows():
            yield from row


def assert_safe_xlsx(data: bytes) -> list[str]:
    """No formula anywhere, no text starting like one; returns the texts for further checks."""
    texts = []
    for cell in cells_of_xlsx(data):
        assert cell.data_type != "f", (cell.coordinate, cell.value)
        if isinstance(cell.value, str):
            # openpyxl leaves OOXML escapes such as _x000D_ (a carriage return) as they are.
            text = ESCAPE.sub(lambda m: chr(int(m[1], 16)), cell.value)
            assert not text.startswith(FORMULA_PREFIXES), (cell.coordinate, text)
            texts.append(text)
    return texts


def assert_safe_csv(data: bytes) -> list[str]:
    texts = []
    for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")):
        for value in row:
            # CSV has no types: a written number such as -1.50 is a number, not a formula.
            if not NUMBER.fullmatch(value):
                assert not value.startswith(FORMULA_PREFIXES), value
            texts.append(value)
    return texts


def planted(texts: list[str], values: list[str]) -> None:
    """Each hostile value really reached the file (neutralised, possibly inside a longer text)."""
    for value in values:
        assert any(neutralise(value) in t for t in texts), (value, texts[:40])


# --- One case per module that writes files. ---


def health_export(world, client_for, clock, tmp_path, settings):
    clock.freeze(datetime(2020, 2, 3, 9, tzinfo=SH))
    OrgUnit.objects.filter(code="HG-HZ").update(name=HOSTILE[0])
    OrgUnit.objects.filter(code="HG-HZ-ZH").update(name=HOSTILE[1])
    for i, h in enumerate(HOSTILE):
        Person.objects.create(unit=world.units["HG-HZ"], name=h, post=HOSTILE[-1 - i])
    r = client_for("county_liaison").get(reverse("health:unit_day_export", args=["HG-HZ"]))
    assert r.status_code == 200
    texts = assert_safe_xlsx(r.content)
    planted(texts, HOSTILE)
    return texts


def reports_ledger(world, client_for, clock, tmp_path, settings):
    from fangkong.org.models import UnitLevel
    from fangkong.reports import services as reports
    from fangkong.reports.models import Report, ReportForm

    form = ReportForm.objects.create(
        code="daily", name="疫情防控日报", root=world.units["HB"], active_from=date(2020, 1, 1)
    )
    form.levels.set(UnitLevel.objects.filter(code__in=["province", "city", "county"]))
    clock.freeze(datetime(2020, 2, 3, 9, tzinfo=SH))
    reports.report_submit(
        actor=world.users["county_liaison"],
        form=form,
        unit=world.units["HG-HZ"],
        day=D,
        kind="daily",
        values=dict.fromkeys(form.field_keys, 0),
        narrative=HOSTILE[0],
    )
    Report.objects.filter(unit=world.units["HG-HZ"]).update(narrative=HOSTILE[4])
    OrgUnit.objects.filter(code="HG").update(name=HOSTILE[3])  # the title starts with it
    OrgUnit.objects.filter(code="HG-HZ").update(name=HOSTILE[1])
    OrgUnit.objects.filter(code="HG-MC").update(name=HOSTILE[5])
    Person.objects.filter(pk=world.people["leader"].pk).update(name=HOSTILE[2])
    Person.objects.filter(pk=world.people["county_liaison"].pk).update(name=HOSTILE[0])
    r = client_for("city_coord").get(
        reverse("reports:ledger", args=[form.pk]) + "?node=HG&from=2020-02-03&to=2020-02-03"
    )
    assert r.status_code == 200
    texts = assert_safe_xlsx(r.content)
    planted(texts, HOSTILE[1:])  # HOSTILE[0] is in the liaison column: checked below
    assert neutralise(HOSTILE[0]) in texts
    return texts


def roster_export(world, client_for, clock, tmp_path, settings):
    OrgUnit.objects.filter(code="HG-HZ").update(name=HOSTILE[0], short_name=HOSTILE[1])
    OrgUnit.objects.filter(code="HG-MC").update(name=HOSTILE[4])
    Person.objects.filter(pk=world.people["staff"].pk).update(name=HOSTILE[2], post=HOSTILE[3])
    Person.objects.filter(pk=world.people["leader"].pk).update(name=HOSTILE[5])
    FamilyMember.objects.filter(person=world.people["staff"], relation="child").update(
        name=HOSTILE[4]
    )
    c = client_for("city_coord")
    r = c.get(reverse("org:roster_export") + "?unit=HG")
    assert r.status_code == 200
    texts = assert_safe_xlsx(r.content)
    planted(texts, HOSTILE)
    template = c.get(reverse("org:roster_import") + "?template=1")
    assert template.status_code == 200
    assert_safe_xlsx(template.content)
    # The export read back (unchanged) changes nothing: the quotes come off again.
    r = c.post(reverse("org:roster_import"), {"file": io.BytesIO(r.content)}, format="multipart")
    upload = RosterUpload.objects.latest("pk")
    assert upload.summary["error_count"] == 0, upload.summary["errors"]
    counts = upload.summary["counts"]
    assert counts["units_updated"] == counts["people_updated"] == counts["family_new"] == 0
    return texts


def relief_findings(world, client_for, clock, tmp_path, settings):
    from fangkong.org import services as org_services
    from fangkong.org.models import Role
    from fangkong.relief import services
    from fangkong.relief.ledger import store
    from fangkong.relief.models import Finding

    settings.MEDIA_ROOT = tmp_path / "media"
    auditor = world.users["city_coord"]
    org_services.role_assign(actor=None, user=auditor, role=Role.AUDITOR)
    project = services.project_create(
        actor=auditor, name="跟踪审计", period_start=date(2020, 1, 1), period_end=date(2020, 6, 30)
    )
    ledger = tmp_path / f"{PRINTABLE[2]}慈善总会捐款登记.csv"
    rows = [["票据号", "日期", "捐赠单位或个人", "捐赠金额", "指定受赠方"]]
    rows += [[f"P{i}", "2020-02-03", h, "100", PRINTABLE[-1 - i]] for i, h in enumerate(PRINTABLE)]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    ledger.write_bytes(buf.getvalue().encode("utf-8"))
    imports = services.path_import(actor=auditor, project=project, path=ledger)
    assert [i.error_count for i in imports] == [0], imports[0].errors
    with store.project_db(project.pk) as con:
        found = store.rows(
            con, "SELECT row_id, row_no, file_id, sheet FROM entries ORDER BY row_no"
        )
    finding = services.finding_add(
        actor=auditor,
        project=project,
        title=PRINTABLE[0],
        severity="high",
        description=PRINTABLE[1],
        rule=PRINTABLE[3],
        amount_fen=-500,
        evidence=[
            {
                "source_id": r["file_id"],
                "sheet": r["sheet"],
                "row_no": r["row_no"],
                "row_id": r["row_id"],
            }
            for r in found
        ],
    )
    Finding.objects.filter(pk=finding.pk).update(reason=HOSTILE[4], description=HOSTILE[5])
    r = client_for("city_coord").get(reverse("relief:findings_xlsx", args=[project.pk]))
    assert r.status_code == 200
    texts = assert_safe_xlsx(r.content)
    planted(texts, HOSTILE)
    return texts


CASES = {
    "fangkong/health/exports.py": health_export,
    "fangkong/reports/exports.py": reports_ledger,
    "fangkong/org/roster/export.py": roster_export,
    # The roster reader restores what the export neutralised: the same round trip is its case.
    "fangkong/org/roster/read.py": roster_export,
    "fangkong/relief/findings/xlsx.py": relief_findings,
}


@pytest.mark.parametrize("module", sorted(CASES))
def test_export_neutralises_hostile_text(module, world, client_for, clock, tmp_path, settings):
    CASES[module](world, client_for, clock, tmp_path, settings)


def test_every_writer_goes_through_the_helper():
    direct = modules(WRITERS) - {HELPER} - NOT_EXPORTS
    assert direct == set(), f"write spreadsheets through {HELPER}, not directly: {sorted(direct)}"


def test_every_module_using_the_helper_has_a_case_here():
    users = modules(re.compile(r"\bspreadsheet_out\b")) - {HELPER}
    assert users == set(CASES), "add a hostile-values case for each new export"
