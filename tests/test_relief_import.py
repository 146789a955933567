"""The ledger importer on files as relief bodies really send them, and on garbage.

Files written by LibreOffice itself (not only by Python libraries), GBK and GB18030 CSVs, merged
two-row headers, title and total rows, amounts and dates in every form; a failed import leaves
nothing behind and names the row and column.
"""

import csv
import io
import os
import random
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
import xlsxwriter
from django.core.exceptions import ValidationError

from fangkong.relief import services
from fangkong.relief.ledger import importer, schema, store
from fangkong.relief.models import ImportStatus, LedgerImport, Party, SourceFile
from tests.relief_fixtures import import_folder

SYN = schema.all_synonyms()


def _xlsx(path: Path, title: str | None, header: list, rows: list, total: list | None = None):
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("台账")
    bold = wb.add_format({"bold": True})
    datefmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    r = 0
    if title:
        ws.merge_range(0, 0, 0, len(header) - 1, title, bold)
        r = 1
    for c, h in enumerate(header):
        ws.write(r, c, h, bold)
    for i, row in enumerate(rows, start=r + 1):
        for c, v in enumerate(row):
            if isinstance(v, date):
                ws.write_datetime(i, c, datetime(v.year, v.month, v.day), datefmt)
            else:
                ws.write(i, c, v)
    if total:
        for c, v in enumerate(total):
            ws.write(r + 1 + len(rows), c, v, bold)
    wb.close()
    return path


def _check(path: Path, year: int = 2020, out: Path | None = None):
    sheet = importer.read_file(path)[0]
    det = importer.detect(sheet.name, sheet.head(), path.name, SYN)
    result = importer.check(sheet, det, import_id=1, file_id=1, year=year, out_path=out)
    return det, result


def _rows(parquet: Path) -> list[dict]:
    con = store.connect()
    try:
        return store.rows(con, f"SELECT * FROM '{parquet}' ORDER BY row_no")  # noqa: S608 - a test path
    finally:
        con.close()


DONATIONS = [
    ["JZ001", date(2020, 1, 25), "湖北长江实业集团有限公司", 1_000_000.00, "黄冈市中心医院"],
    ["JZ002", date(2020, 1, 26), "黄冈市工商联", 5_000.5, ""],
    ["JZ003", date(2020, 2, 3), "香港同乡会", 123_456.78, "非定向"],
]
HEADER = ["收据编号", "捐赠日期", "捐赠方", "金额（元）", "定向用途"]
EXPECTED_FEN = [100_000_000, 500_050, 12_345_678]


def test_title_row_total_row_and_excel_dates(tmp_path):
    path = _xlsx(
        tmp_path / "红十字会捐赠资金登记表.xlsx",
        "黄冈市红十字会捐赠资金登记表",
        HEADER,
        DONATIONS,
        ["合计", "", "", sum(r[3] for r in DONATIONS), ""],
    )
    out = tmp_path / "out.parquet"
    det, result = _check(path, out=out)
    assert det.kind == "cash_donation" and det.header_row == 2
    assert det.title == "黄冈市红十字会捐赠资金登记表"
    assert result.error_count == 0 and result.total == 3 and result.skipped == [6]
    rows = _rows(out)
    assert [r["amount"] for r in rows] == EXPECTED_FEN
    assert [r["row_no"] for r in rows] == [3, 4, 5]  # Excel's own row numbers
    assert rows[2]["day"] == date(2020, 2, 3)
    assert rows[0]["ref"] == "JZ001" and rows[0]["step"] == "booked"


def _soffice(src: Path, fmt: str, outdir: Path) -> Path:
    try:
        from tests.relief_office import has_soffice, libreoffice_convert
    except ImportError:  # pragma: no cover - the helper module is part of the repository
        pytest.fail("tests/relief_office.py missing")
    if not has_soffice():
        if os.environ.get("CI") == "true":
            pytest.fail(
                "LibreOffice (soffice) is missing in CI: apt-get install libreoffice-calc-nogui"
            )
        pytest.skip("LibreOffice not installed")
    return libreoffice_convert(src, fmt, outdir)


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "csv:Text - txt - csv (StarCalc):44,34,76"])
def test_files_written_by_libreoffice(tmp_path, fmt):
    (tmp_path / "src").mkdir()
    src = _xlsx(
        tmp_path / "src" / "捐赠资金登记表.xlsx",
        "黄冈市红十字会捐赠资金登记表",
        HEADER,
        DONATIONS,
        ["合计", "", "", sum(r[3] for r in DONATIONS), ""],
    )
    converted = _soffice(src, fmt, tmp_path / "lo")
    out = tmp_path / "out.parquet"
    det, result = _check(converted, out=out)
    assert det.kind == "cash_donation", (converted.name, det.problems)
    assert result.error_count == 0, result.errors
    rows = _rows(out)
    assert [r["amount"] for r in rows] == EXPECTED_FEN
    assert [r["day"] for r in rows] == [r[1] for r in DONATIONS]
    assert [r["source"] for r in rows] == [r[2] for r in DONATIONS]


def _csv(path: Path, header, rows, encoding: str) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_csv_encodings_amount_and_date_forms(tmp_path, encoding):
    donor = "黄冈市㐀记商行" if encoding == "gb18030" else "黄冈市工商联"  # 㐀 is outside GBK
    rows = [
        ["P1", "2020/2/3", donor, "1234.5元", ""],
        ["P2", "2020年2月4日", "香港同乡会", "1.2万", "黄冈市中心医院"],
        ["P3", "20200205", "某某科技股份有限公司", "1,234.50", ""],
        ["P4", "2020-02-06", "爱心人士（匿名）", "￥３,０００", ""],
        ["P5", "2.7", "黄冈市商会", "0.5万元", ""],
    ]
    path = _csv(
        tmp_path / "慈善总会捐款登记.csv",
        ["票据号", "日期", "捐赠单位或个人", "捐赠金额", "指定受赠方"],
        rows,
        encoding,
    )
    out = tmp_path / "out.parquet"
    det, result = _check(path, out=out)
    assert det.kind == "cash_donation"
    assert result.error_count == 0, result.errors
    got = _rows(out)
    assert [r["amount"] for r in got] == [123_450, 1_200_000, 123_450, 300_000, 500_000]
    assert [r["day"] for r in got] == [date(2020, 2, d) for d in range(3, 8)]
    assert got[0]["source"] == donor
    assert [r["row_no"] for r in got] == [2, 3, 4, 5, 6]


def test_two_row_merged_header(tmp_path):
    path = tmp_path / "应急物资储备库出入库台账.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("台账")
    for c, h in enumerate(["单号", "物资名称", "仓库"]):
        ws.merge_range(0, c, 1, c, h)
    ws.merge_range(0, 3, 0, 4, "入库")
    ws.merge_range(0, 5, 0, 7, "出库")
    for c, h in enumerate(["日期", "数量", "日期", "数量", "领用单位"], start=3):
        ws.write(1, c, h)
    ws.write_row(2, 0, ["WZ1", "医用防护口罩", "应急物资储备库", "2020-02-01", 2000, "", "", ""])
    ws.write_row(
        3,
        0,
        ["WZ1", "医用防护口罩", "应急物资储备库", "", "", "2020-02-02", 1500, "黄冈市中心医院"],
    )
    wb.close()
    out = tmp_path / "out.parquet"
    det, result = _check(path, out=out)
    assert det.header_rows == 2 and det.header_row == 2 and det.kind == "stock"
    assert {"qty_in", "qty_out", "day_in", "day_out", "target"} <= set(det.mapping.values())
    assert result.error_count == 0, result.errors
    got = _rows(out)
    assert [(r["step"], r["quantity"], r["day"], r["target"]) for r in got] == [
        ("stored", 2000, date(2020, 2, 1), None),
        ("issued", 1500, date(2020, 2, 2), "黄冈市中心医院"),
    ]


def test_wan_yuan_header_scales_amounts(tmp_path):
    path = _xlsx(
        tmp_path / "财政专项资金拨付.xlsx",
        "疫情防控专项资金拨付明细",
        ["文号", "拨付日期", "收款单位", "金额（万元）"],
        [["黄财预〔2020〕1号", "2020年1月24日", "黄冈市中心医院", 120.5]],
    )
    out = tmp_path / "out.parquet"
    det, result = _check(path, out=out)
    assert det.kind == "appropriation" and result.error_count == 0
    assert _rows(out)[0]["amount"] == 120_500_000  # 120.5 万元 = 1,205,000.00 元


BAD_ROWS = [
    ["B1", "2020-02-01", "黄冈市工商联", "100", ""],
    ["B2", "2020-02-01", "黄冈市工商联", "200", ""],
    ["B3", "2020-02-01", "黄冈市工商联", "300", ""],
    ["B4", "2020-02-01", "黄冈市工商联", "400", ""],
    ["B5", "2020-02-01", "黄冈市工商联", "500", ""],
    ["B6", "2020-02-01", "黄冈市工商联", "壹佰元", ""],  # row 7: amount in words
    ["B7", "2020-02-01", "黄冈市工商联", "12.345", ""],  # row 8: below the fen
    ["B8", "2020-02-30", "黄冈市工商联", "100", ""],  # row 9: no such day
    ["B9", "2020-02-01", "", "100", ""],  # row 10: no donor
    ["B10", "2020-02-01", "黄冈市工商联", "-5", ""],  # row 11: negative
]


def test_every_bad_cell_is_named_by_row_and_column(tmp_path):
    path = _csv(
        tmp_path / "捐款登记.csv",
        ["票据号", "日期", "捐赠单位或个人", "捐赠金额", "指定受赠方"],
        BAD_ROWS,
        "gbk",
    )
    _det, result = _check(path, out=tmp_path / "out.parquet")
    assert result.error_count == 5
    where = [(e["row"], e["column"]) for e in result.errors]
    assert where == [(7, "D"), (8, "D"), (9, "B"), (10, "C"), (11, "D")]
    texts = [e["text"] for e in result.errors]
    assert texts[0].startswith("第7行 D列「捐赠金额」：金额无法识别：壹佰元")
    assert "最多保留到分" in texts[1] and "日期无法识别：2020-02-30" in texts[2]
    assert "不能为空" in texts[3] and "负数" in texts[4]
    assert not (tmp_path / "out.parquet").exists()


def test_failed_import_leaves_nothing_behind(relief_world, tmp_path):
    rw = relief_world
    actor = rw.users["auditor"]
    before_parties = Party.objects.filter(project=rw.project).count()
    with store.project_db(rw.project.pk) as con:
        before_rows = con.execute("SELECT count(*) FROM entries").fetchone()[0]
    path = _csv(
        tmp_path / "新捐款登记.csv",
        ["票据号", "日期", "捐赠单位或个人", "捐赠金额", "指定受赠方"],
        [["N1", "2020-02-01", "全新捐赠单位有限公司", "100", ""], *BAD_ROWS],
        "gbk",
    )
    upload = services.source_for_upload_path(path)
    source = services.file_upload(actor=actor, project=rw.project, upload=upload)
    upload.close()
    imp = services.run_check(import_id=source.imports.get().pk)
    assert imp.error_count == 5 and imp.errors[0]["row"] == 8
    with pytest.raises(ValidationError):
        services.import_accept(actor=actor, imp=imp)
    imp.refresh_from_db()
    assert imp.status == ImportStatus.PREVIEW
    assert not store.ledger_path(rw.project.pk, imp.pk).exists()
    assert not store.staging_path(rw.project.pk, imp.pk).exists()
    assert Party.objects.filter(project=rw.project).count() == before_parties
    with store.project_db(rw.project.pk) as con:
        assert con.execute("SELECT count(*) FROM entries").fetchone()[0] == before_rows


def test_accept_twice_imports_once(relief_world, tmp_path):
    rw = relief_world
    actor = rw.users["auditor"]
    path = _xlsx(tmp_path / "补充捐赠资金登记表.xlsx", "补充登记", HEADER, DONATIONS)
    upload = services.source_for_upload_path(path)
    source = services.file_upload(actor=actor, project=rw.project, upload=upload)
    upload.close()
    imp = services.run_check(import_id=source.imports.get().pk)
    services.import_accept(actor=actor, imp=imp)
    with pytest.raises(ValidationError):
        services.import_accept(actor=actor, imp=LedgerImport.objects.get(pk=imp.pk))
    with store.project_db(rw.project.pk) as con:
        n = con.execute("SELECT count(*) FROM entries WHERE import_id = ?", [imp.pk]).fetchone()[0]
        ev = con.execute(
            "SELECT file_id, sheet, row_no FROM entries WHERE import_id = ? ORDER BY row_no",
            [imp.pk],
        ).fetchall()
    assert n == 3
    assert ev[0] == (source.pk, "台账", 3)  # every stored row points at its file, sheet and row
    # The stored file is the upload itself, with its SHA-256.
    import hashlib

    assert hashlib.sha256(Path(source.content.path).read_bytes()).hexdigest() == source.sha256
    # The same file again is refused, not imported twice.
    upload = services.source_for_upload_path(path)
    with pytest.raises(ValidationError):
        services.file_upload(actor=actor, project=rw.project, upload=upload)
    upload.close()


def _garbage_files(tmp_path: Path) -> dict[str, Path]:
    rng = random.Random(7)
    files = {}
    files["random.xlsx"] = tmp_path / "random.xlsx"
    files["random.xlsx"].write_bytes(rng.randbytes(200_000))
    files["empty.csv"] = tmp_path / "empty.csv"
    files["empty.csv"].write_bytes(b"")
    z = tmp_path / "notes.xlsx"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("readme.txt", "not a workbook")
    files["notes.xlsx"] = z
    png = tmp_path / "photo.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    files["photo.csv"] = png
    truncated = _xlsx(tmp_path / "ok.xlsx", None, HEADER, DONATIONS)
    cut = tmp_path / "truncated.xlsx"
    cut.write_bytes(truncated.read_bytes()[:900])
    files["truncated.xlsx"] = cut
    return files


def test_garbage_is_refused_with_a_clear_message(tmp_path):
    for name, path in _garbage_files(tmp_path).items():
        with pytest.raises(importer.LedgerFileError) as err:
            importer.read_file(path)
        text = err.value.text()
        assert "请" in text, (name, text)  # says what to do


def test_garbage_upload_stores_nothing(relief_world, tmp_path):
    rw = relief_world
    files_before = SourceFile.objects.count()
    media = Path(store.project_dir(rw.project.pk)) / "files"
    on_disk = set(media.iterdir())
    for path in _garbage_files(tmp_path).values():
        upload = services.source_for_upload_path(path)
        with pytest.raises(importer.LedgerFileError):
            services.file_upload(actor=rw.users["auditor"], project=rw.project, upload=upload)
        upload.close()
    assert SourceFile.objects.count() == files_before
    assert set(media.iterdir()) == on_disk


def test_unknown_headers_ask_for_a_mapping(tmp_path):
    path = _csv(tmp_path / "杂表.csv", ["甲", "乙", "丙"], [["1", "2", "3"]], "utf-8")
    sheet = importer.read_file(path)[0]
    det = importer.detect(sheet.name, sheet.head(), path.name, SYN)
    assert det.header_row == 0 and not det.kind
    assert "表头词典" in det.problems[0]


def test_missing_required_column_is_named(tmp_path):
    path = _csv(
        tmp_path / "捐款登记.csv",
        ["票据号", "日期", "捐赠单位或个人", "用途"],
        [["1", "2020-02-01", "某单位", "防疫"]],
        "utf-8",
    )
    sheet = importer.read_file(path)[0]
    det = importer.detect(sheet.name, sheet.head(), path.name, SYN)
    det.kind = "cash_donation"
    result = importer.check(
        sheet, det, import_id=1, file_id=1, year=2020, out_path=tmp_path / "o.parquet"
    )
    assert result.error_count == 1 and "缺少必需的列「金额」" in result.errors[0]["message"]


def test_project_synonym_maps_a_new_header(relief_world, tmp_path):
    rw = relief_world
    services.synonym_add(
        actor=rw.users["auditor"], project=rw.project, header="爱心款", field="amount"
    )
    path = _csv(
        tmp_path / "捐款登记2.csv",
        ["票据号", "日期", "捐赠单位或个人", "爱心款"],
        [["X1", "2020-02-01", "某单位", "88"]],
        "utf-8",
    )
    upload = services.source_for_upload_path(path)
    source = services.file_upload(actor=rw.users["auditor"], project=rw.project, upload=upload)
    upload.close()
    imp = source.imports.get()
    assert imp.kind == "cash_donation" and imp.mapping["3"] == "amount"


def test_world_files_are_recognised_as_their_kinds(relief_world):
    kinds = {i.kind for i in relief_world.imports}
    assert "cash_donation" in kinds and "stock" in kinds and "appropriation" in kinds


def test_background_import_reports_progress(
    relief_world, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.RELIEF_BACKGROUND_BYTES = 0
    settings.HUEY = {**settings.HUEY, "immediate": True}
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    try:
        path = _xlsx(tmp_path / "后台捐赠资金登记表.xlsx", "登记", HEADER, DONATIONS)
        upload = services.source_for_upload_path(path)
        source = services.file_upload(
            actor=relief_world.users["auditor"], project=relief_world.project, upload=upload
        )
        upload.close()
        imp = source.imports.get()
        # The job is sent when the write that queued it commits.
        with django_capture_on_commit_callbacks(execute=True):
            services.schedule_check(imp)
        imp.refresh_from_db()
        assert imp.status == ImportStatus.PREVIEW and imp.error_count == 0
        assert imp.total_rows == 3 and imp.progress == 100
    finally:
        HUEY.immediate = False


def test_import_folder_helper_matches_world(relief_world, tmp_path):
    """A second project importing the same folder gets the same rows (imports are per project)."""
    rw = relief_world
    project2 = services.project_create(
        actor=rw.users["auditor"],
        name="第二个项目",
        period_start=rw.project.period_start,
        period_end=rw.project.period_end,
    )
    from fangkong.relief.synthetic.ledgers import write_all

    write_all(rw.truth, tmp_path / "again")
    import_folder(rw.users["auditor"], project2, tmp_path / "again")
    with store.project_db(rw.project.pk) as a, store.project_db(project2.pk) as b:
        q = "SELECT kind, count(*), sum(amount), sum(quantity) FROM entries GROUP BY kind ORDER BY kind"
        assert a.execute(q).fetchall() == b.execute(q).fetchall()
