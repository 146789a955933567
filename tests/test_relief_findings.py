"""Findings: adding one by hand with evidence rows, reviewing it, the report draft and the workbook."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from fangkong.audit.models import AuditEvent
from fangkong.lib.money import yuan
from fangkong.relief import services
from fangkong.relief.ledger import rows, store
from fangkong.relief.models import Finding, FindingStatus
from fangkong.relief.views.findings import parse_rows


def ledger_rows(rw, n: int = 3) -> dict:
    """n consecutive data rows of the project's largest ledger: file, sheet, row numbers, ids."""
    with store.project_db(rw.project.pk) as con:
        file_id, sheet = con.execute(
            "SELECT file_id, sheet FROM raw_entries GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        found = store.rows(
            con,
            "SELECT row_id, row_no, ref FROM entries WHERE file_id = ? AND sheet = ? "
            "ORDER BY row_no LIMIT ?",
            [file_id, sheet, n],
        )
    return {"file_id": file_id, "sheet": sheet, "rows": found}


def new_form(rw, **extra) -> dict:
    return {"title": "定向捐赠资金未按指定用途拨付", "severity": "high", "token": "t1"} | extra


def add_finding(rw, title: str, status: str = FindingStatus.OPEN, **kw) -> Finding:
    picked = ledger_rows(rw, 2)
    f = services.finding_add(
        actor=rw.users["auditor"],
        project=rw.project,
        title=title,
        severity=kw.pop("severity", "medium"),
        evidence=[
            {
                "source_id": picked["file_id"],
                "sheet": picked["sheet"],
                "row_no": r["row_no"],
                "row_id": r["row_id"],
            }
            for r in picked["rows"]
        ],
        **kw,
    )
    if status != FindingStatus.OPEN:
        services.finding_decide(
            actor=rw.users["auditor"], finding=f, status=status, reason="已核实无误"
        )
    return f


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("12, 15-18", [12, 15, 16, 17, 18]),
        ("12，15～18", [12, 15, 16, 17, 18]),
        ("18、12 至 13；12", [12, 13, 18]),
        ("  ", []),
    ],
)
def test_row_numbers_are_read_as_auditors_write_them(text, rows):
    assert parse_rows(text) == rows


@pytest.mark.parametrize(
    ("text", "message"),
    [("12, abc", "“abc”无法识别"), ("18-12", "起始行号大于结束行号"), ("1-100000", "最多")],
)
def test_row_numbers_that_cannot_be_read_say_why(text, message):
    with pytest.raises(ValidationError) as exc:
        parse_rows(text)
    assert message in exc.value.messages[0]


def test_money_is_shown_in_yuan_with_separators():
    assert yuan(123450) == "1,234.50"
    assert yuan(5) == "0.05"
    assert yuan(None) == ""
    assert rows.number(1200) == "1,200"


def test_manual_finding_with_evidence_rows(relief_world, client_for):
    rw = relief_world
    client = client_for("auditor2")
    url = reverse("relief:finding_new", args=[rw.project.pk])
    picked = ledger_rows(rw, 3)
    first, last = picked["rows"][0]["row_no"], picked["rows"][-1]["row_no"]
    spec = f"{first}, {first + 1}-{last}"

    # The form lists the project's imported files and opens prefilled from a ledger row's page.
    r = client.get(url, {"row_id": picked["rows"][0]["row_id"]})
    assert r.status_code == 200
    form = r.context["form"]
    assert form.initial["ev_file_0"] == picked["file_id"]
    assert form.initial["ev_rows_0"] == first

    # Rows that are not in the store are named; nothing is saved.
    bad = new_form(rw, ev_file_0=picked["file_id"], ev_rows_0=f"{first}, 99998-99999")
    r = client.post(url, bad)
    assert r.status_code == 200
    body = r.content.decode()
    assert "第 99998-99999 行" in body and "数据行" in body
    assert not rw.project.findings.exists()

    # Amounts are read as ledgers write them; a word is refused with a message that says how.
    r = client.post(url, new_form(rw, amount="abc"))
    assert "金额无法识别：abc" in r.content.decode()
    r = client.post(url, new_form(rw, quantity="1.5"))
    assert "整数" in r.content.decode()
    r = client.post(url, new_form(rw, ev_rows_0="12"))
    assert "请选择这些行所在的文件" in r.content.decode()
    assert not rw.project.findings.exists()

    good = new_form(
        rw,
        amount="1,234.50",
        quantity="1,000",
        rule="《中华人民共和国慈善法》第五十五条",
        description="捐赠人指定用于定点医院，实际拨付给非定点单位。",
        ev_file_0=picked["file_id"],
        ev_rows_0=spec,
    )
    r = client.post(url, good)
    assert r.status_code == 302
    f = rw.project.findings.get()
    assert r["Location"] == reverse("relief:finding", args=[rw.project.pk, f.pk])
    assert (f.amount_fen, f.quantity, f.test_id, f.status) == (123450, 1000, "", "open")
    assert f.created_by == rw.users["auditor2"]
    ev = list(f.evidence.order_by("row_no"))
    assert [e.row_no for e in ev] == [row["row_no"] for row in picked["rows"]]
    assert [e.row_id for e in ev] == [row["row_id"] for row in picked["rows"]]
    assert {e.sheet for e in ev} == {picked["sheet"]}

    # A double-clicked submit (same form token) does not add a second finding.
    r = client.post(url, good)
    assert r.status_code == 302 and rw.project.findings.count() == 1

    # The finding page shows each row's key fields and links to the row and the trace.
    r = client.get(reverse("relief:finding", args=[rw.project.pk, f.pk]))
    body = r.content.decode()
    assert "1,234.50" in body and "《中华人民共和国慈善法》第五十五条" in body
    row_id = picked["rows"][0]["row_id"]
    assert reverse("relief:row", args=[rw.project.pk, row_id]) in body
    ref = picked["rows"][0]["ref"]
    if ref and "/" not in ref:
        assert reverse("relief:trace_donation", args=[rw.project.pk, ref]) in body

    # The list shows it, filtered by severity and as a manual finding.
    list_url = reverse("relief:findings", args=[rw.project.pk])
    assert f.title in client.get(list_url, {"severity": "high", "test": "manual"}).content.decode()
    r = client.get(list_url, {"severity": "low"})
    assert f.title not in r.content.decode()
    assert r.context["tabs"][0]["n"] == 0


def test_review_confirm_dismiss_reopen_and_notes(relief_world, client_for):
    rw = relief_world
    f = add_finding(rw, "物资出库无签收记录")
    client = client_for("auditor")
    decide = reverse("relief:finding_decide", args=[rw.project.pk, f.pk])
    page = reverse("relief:finding", args=[rw.project.pk, f.pk])

    r = client.post(decide, {"action": "confirm"})
    assert r.status_code == 302
    f.refresh_from_db()
    assert f.status == FindingStatus.CONFIRMED and f.decided_by == rw.users["auditor"]
    # A second click changes nothing and records nothing.
    client.post(decide, {"action": "confirm"})
    assert AuditEvent.objects.filter(action="relief.finding.confirmed").count() == 1
    r = client.get(page)
    assert "auditor 于" in r.content.decode()

    # Dismissing needs a reason; the page says so and the finding stays as it was.
    r = client.post(decide, {"action": "dismiss", "reason": "  "})
    assert r.status_code == 400
    assert "排除问题必须填写理由" in r.content.decode()
    f.refresh_from_db()
    assert f.status == FindingStatus.CONFIRMED
    r = client.post(decide, {"action": "dismiss", "reason": "经核对签收单原件，物资已签收"})
    assert r.status_code == 302
    f.refresh_from_db()
    assert (f.status, f.reason) == (FindingStatus.DISMISSED, "经核对签收单原件，物资已签收")
    assert "经核对签收单原件" in client.get(page).content.decode()

    client.post(decide, {"action": "reopen"})
    f.refresh_from_db()
    assert (f.status, f.reason, f.decided_by) == (FindingStatus.OPEN, "", None)

    note = reverse("relief:finding_note", args=[rw.project.pk, f.pk])
    r = client.post(note, {"text": "已约谈仓库保管员"})
    assert r.status_code == 302
    client.post(note, {"text": "已约谈仓库保管员"})  # a double click
    client.post(note, {"text": "   "})
    assert [n.text for n in f.notes.all()] == ["已约谈仓库保管员"]
    assert "已约谈仓库保管员" in client.get(page).content.decode()


def _docx_paragraphs(content: bytes) -> list[str]:
    from docx import Document

    return [p.text for p in Document(io.BytesIO(content)).paragraphs]


def test_report_draft_has_confirmed_findings_only(relief_world, client_for):
    rw = relief_world
    confirmed = add_finding(
        rw,
        "定向捐赠资金被挪作他用",
        FindingStatus.CONFIRMED,
        severity="high",
        amount_fen=123450,
        quantity=200,
        rule="《中华人民共和国慈善法》第五十五条",
        description="某企业指定捐给定点医院的资金，被拨付给非定点单位。",
    )
    add_finding(rw, "尚待核实的疑点：库存盘点差异")
    add_finding(rw, "已排除的疑点：单价偏高", FindingStatus.DISMISSED)
    r = client_for("auditor2").get(reverse("relief:report_docx", args=[rw.project.pk]))
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r["Content-Disposition"]
    paras = _docx_paragraphs(r.content)
    text = "\n".join(paras)
    assert paras[0] == "黄冈市疫情防控资金物资跟踪审计报告"
    assert "（征求意见稿）" in paras[1]
    for heading in ("一、基本情况", "二、审计发现的主要问题", "三、审计建议", "四、其他事项"):
        assert heading in paras
    two = "\n".join(paras[paras.index("二、审计发现的主要问题") : paras.index("三、审计建议")])
    assert "定向捐赠资金被挪作他用" in two
    assert "1,234.50" in two
    assert "《中华人民共和国慈善法》第五十五条" in two
    for ev in confirmed.evidence.select_related("source"):
        assert f"{ev.source.name} / {ev.sheet or '—'} / 第{ev.row_no}行" in two
    assert "高风险问题" in two
    assert "尚待核实的疑点" not in text and "已排除的疑点" not in text
    assert "另有 1 个疑点尚在复核中、1 个疑点经核实已排除" in text
    three = "\n".join(paras[paras.index("三、审计建议") : paras.index("四、其他事项")])
    assert "“定向捐赠资金被挪作他用”" in three and "捐赠人" in three
    # The data audited: every file with its SHA-256, in a table of 基本情况.
    from docx import Document

    doc = Document(io.BytesIO(r.content))
    cells = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    for source in rw.project.files.all():
        assert f"SHA-256: {source.sha256}" in cells
    assert paras[-1].endswith("日") and paras[-2] == "审计组"
    # Chinese text is set in a Chinese font (w:eastAsia), not left to Word's Latin default.
    assert 'w:eastAsia="仿宋_GB2312"' in doc.styles["Normal"].element.xml
    assert AuditEvent.objects.filter(
        action="relief.report.download", actor=rw.users["auditor2"]
    ).exists()


def test_findings_workbook(relief_world, client_for):
    from openpyxl import load_workbook

    rw = relief_world
    f = add_finding(
        rw, "补助重复发放", FindingStatus.CONFIRMED, amount_fen=123450, rule="财社〔2020〕2号"
    )
    dismissed = add_finding(rw, "单价偏高", FindingStatus.DISMISSED)
    r = client_for("auditor").get(reverse("relief:findings_xlsx", args=[rw.project.pk]))
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["问题清单", "证据"]
    ws = wb["问题清单"]
    header = [c.value for c in ws[1]]
    assert header[:10] == [
        "编号",
        "测试编号",
        "问题",
        "说明",
        "严重程度",
        "状态",
        "涉及金额（元）",
        "涉及数量",
        "依据",
        "排除理由",
    ]
    assert ws.freeze_panes == "A2"
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    row = rows[f.pk]
    assert [c.value for c in row[1:6]] == ["手工", "补助重复发放", "", "中", "已确认"]
    assert row[6].value == 1234.5 and row[6].number_format == "#,##0.00"
    assert row[8].value == "财社〔2020〕2号"
    assert rows[dismissed.pk][9].value == "已核实无误"
    ev = wb["证据"]
    assert [c.value for c in ev[1]][:5] == ["问题编号", "文件名", "SHA-256", "工作表", "行号"]
    mine = [r for r in ev.iter_rows(min_row=2, values_only=True) if r[0] == f.pk]
    expected = list(f.evidence.select_related("source").order_by("row_no"))
    assert [(r[1], r[2], r[4]) for r in mine] == [
        (e.source.name, e.source.sha256, e.row_no) for e in expected
    ]
    assert all(r[5] for r in mine)  # the ledger kind of each row, read back from the store
    assert ev.freeze_panes == "A2"
