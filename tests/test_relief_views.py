"""Relief-audit project pages: creating a project, uploading and checking ledgers, accepting them,
the team, the party and item catalogue, the header dictionary, downloading the file as received."""

import random
from datetime import date
from pathlib import Path

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from fangkong.accounts.models import User
from fangkong.audit.models import AuditEvent
from fangkong.org import services as org_services
from fangkong.org.models import Role
from fangkong.relief import services
from fangkong.relief.ledger import store
from fangkong.relief.models import (
    AuditProject,
    ColumnSynonym,
    ImportStatus,
    LedgerImport,
    Party,
    PartyName,
    SourceFile,
)
from tests.world import PASSWORD


@pytest.fixture
def team(world, settings, tmp_path):
    """A fresh project: `auditor` leads, `auditor2` is a member, `auditor_out` is an auditor outside."""
    settings.MEDIA_ROOT = tmp_path / "media"
    for key in ("auditor", "auditor2", "auditor_out"):
        user = User.objects.create_user(key, password=PASSWORD)
        org_services.role_assign(actor=None, user=user, role=Role.AUDITOR)
        world.users[key] = user
    project = services.project_create(
        actor=world.users["auditor"],
        name="麻城市捐赠款物审计",
        period_start=date(2020, 1, 23),
        period_end=date(2020, 4, 30),
        bodies="麻城市红十字会\n麻城市慈善总会",
    )
    services.member_set(
        actor=world.users["auditor"], project=project, user=world.users["auditor2"], role="member"
    )
    world.project = project
    world.media = tmp_path / "media"
    return world


def csv_upload(name: str, rows: list[list[str]]) -> SimpleUploadedFile:
    text = "\n".join(",".join(r) for r in rows) + "\n"
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def cash_rows(n: int = 8, bad_row: int | None = None, donor: str = "湖北长江实业集团有限公司"):
    """A cash-donation register; `bad_row` (Excel numbering) gets an unreadable amount."""
    rows = [["收据编号", "日期", "捐赠方", "金额"]]
    for i in range(n):
        excel_row = i + 2
        amount = "12x3" if excel_row == bad_row else f"{1000 + i}.50"
        rows.append([f"MC{i:04d}", f"2020/2/{i + 1}", donor, amount])
    return rows


def xlsx_register(path: Path, donors: list[str]) -> Path:
    """Like the Red Cross keeps it: a title row above the header and a 合计 row below."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("登记表")
    ws.write(0, 0, "麻城市红十字会捐赠资金登记表")
    for c, h in enumerate(["收据编号", "捐赠日期", "捐赠方", "金额（元）"]):
        ws.write(1, c, h)
    for r, donor in enumerate(donors, start=2):
        ws.write_row(r, 0, [f"HS{r:03d}", f"2020-02-{r:02d}", donor, "1,000.00"])
    ws.write_row(len(donors) + 2, 0, ["合计", "", "", f"{len(donors) * 1000:,}.00"])
    wb.close()
    return path


def login(world, key: str) -> Client:
    c = Client()
    c.force_login(world.users[key])
    return c


def post_upload(client, project, upload, **extra):
    return client.post(reverse("relief:upload", args=[project.pk]), {"file": upload, **extra})


def store_count(project) -> int:
    with store.project_db(project.pk) as con:
        return con.execute("SELECT count(*) FROM entries").fetchone()[0]


def accept_file(actor, project, upload) -> LedgerImport:
    """Upload, check and accept through the services (for catalogue tests)."""
    source = services.file_upload(actor=actor, project=project, upload=upload)
    imp = services.run_check(import_id=source.imports.get().pk)
    assert imp.error_count == 0, imp.errors
    return services.import_accept(actor=actor, imp=imp)


# --- Projects. ---


def test_an_auditor_creates_a_project_and_leads_it(team):
    c = login(team, "auditor_out")
    r = c.get(reverse("relief:projects"))
    assert "新建审计项目" in r.content.decode()
    r = c.post(
        reverse("relief:project_new"),
        {
            "name": "团风县防疫资金审计",
            "period_start": "2020-01-23",
            "period_end": "2020-03-31",
            "scope": "专项资金",
            "bodies": "团风县财政局\n团风县红十字会",
        },
    )
    project = AuditProject.objects.get(name="团风县防疫资金审计")
    assert r.status_code == 302 and r["Location"] == reverse("relief:project", args=[project.pk])
    assert project.members.get().user == team.users["auditor_out"]
    assert project.members.get().role == "lead"
    body = c.get(r["Location"]).content.decode()
    assert "团风县财政局、团风县红十字会" in body
    assert "上传台账文件" in body


def test_a_project_period_must_not_end_before_it_starts(team):
    r = login(team, "auditor").post(
        reverse("relief:project_new"),
        {"name": "倒序", "period_start": "2020-03-01", "period_end": "2020-02-01"},
    )
    assert r.status_code == 200
    assert "审计期间的结束日期不能早于开始日期。" in r.content.decode()
    assert not AuditProject.objects.filter(name="倒序").exists()


def test_staff_without_the_auditor_role_cannot_create_a_project(team):
    c = login(team, "staff")
    assert "新建审计项目" not in c.get(reverse("relief:projects")).content.decode()
    r = c.post(
        reverse("relief:project_new"),
        {"name": "越权", "period_start": "2020-01-01", "period_end": "2020-02-01"},
    )
    assert r.status_code == 403
    assert not AuditProject.objects.filter(name="越权").exists()


def test_the_menu_shows_audit_projects_to_auditors_and_team_members_only(team):
    link = f'href="{reverse("relief:projects")}"'
    assert link in login(team, "auditor_out").get(reverse("home")).content.decode()
    assert link not in login(team, "staff").get(reverse("home")).content.decode()
    # A team member whose auditor role was withdrawn still finds the project.
    services.member_set(
        actor=team.users["auditor"], project=team.project, user=team.users["staff"], role="member"
    )
    assert link in login(team, "staff").get(reverse("home")).content.decode()


def test_the_project_list_counts_files_rows_and_open_findings(team):
    accept_file(team.users["auditor"], team.project, csv_upload("捐赠资金登记.csv", cash_rows(5)))
    services.finding_add(
        actor=team.users["auditor"], project=team.project, title="未及时公示", severity="medium"
    )
    body = login(team, "auditor2").get(reverse("relief:projects")).content.decode()
    row = body[body.index("麻城市捐赠款物审计") :]
    row = row[: row.index("</tr>")]
    assert "<td>1</td><td>5</td>" in row
    assert ">1</a>" in row  # one open finding


# --- Uploading, previewing and accepting. ---


def test_upload_preview_and_accept_a_workbook(team):
    c = login(team, "auditor")
    path = xlsx_register(
        team.media.parent / "红十字会捐赠资金登记表.xlsx", ["甲公司", "乙公司", "丙公司"]
    )
    r = post_upload(
        c, team.project, SimpleUploadedFile(path.name, path.read_bytes()), body="麻城市红十字会"
    )
    imp = LedgerImport.objects.get(project=team.project)
    assert r.status_code == 302
    assert r["Location"] == reverse("relief:import", args=[team.project.pk, imp.pk])
    page = c.get(r["Location"]).content.decode()
    assert "捐赠资金登记" in page  # the kind's label
    assert 'id="n-rows">3<' in page and 'id="n-skipped">1<' in page
    assert "检查通过" in page
    # The mapping: column letter, header as written, the field chosen.
    mapping = page[page.index('id="mapping"') : page.index("</table>", page.index('id="mapping"'))]
    assert "金额（元）" in mapping and '<option value="amount" selected>金额</option>' in mapping
    preview = page[page.index('id="preview-rows"') :]
    assert "乙公司" in preview and "<th>捐赠方</th>" not in preview and "<th>来源方</th>" in preview
    assert 'id="accept-button" disabled' not in page

    r = c.post(reverse("relief:import_accept", args=[team.project.pk, imp.pk]))
    assert r.status_code == 302 and r["Location"] == reverse(
        "relief:project", args=[team.project.pk]
    )
    imp.refresh_from_db()
    assert imp.status == ImportStatus.DONE
    assert store_count(team.project) == 3
    page = c.get(r["Location"]).content.decode()
    assert "已导入「红十字会捐赠资金登记表.xlsx」（登记表）的 3 行数据。" in page
    assert "1 张表，共 3 行" in page
    assert imp.source.sha256[:12] in page and "麻城市红十字会" in page
    # A second click of the same button changes nothing and says so calmly.
    r = c.post(reverse("relief:import_accept", args=[team.project.pk, imp.pk]), follow=True)
    assert "该表已经导入，无需重复确认。" in r.content.decode()
    assert store_count(team.project) == 3


def test_garbage_is_refused_with_a_clear_message_and_nothing_is_stored(team):
    c = login(team, "auditor")
    junk = random.Random(7).randbytes(4096)
    r = post_upload(c, team.project, SimpleUploadedFile("资金台账.xlsx", junk))
    body = r.content.decode()
    assert r.status_code == 200
    assert "无法读取该文件：它不是 Excel 工作簿" in body and "另存为 .xlsx 后重新上传" in body
    assert 'name="kind"' in body  # the upload form is shown again
    assert not SourceFile.objects.exists() and not LedgerImport.objects.exists()
    assert not [p for p in team.media.rglob("*") if p.is_file()]
    # A damaged workbook (zip signature, broken body) is refused the same way.
    r = post_upload(c, team.project, SimpleUploadedFile("b.xlsx", b"PK\x03\x04" + junk))
    assert "无法读取该文件" in r.content.decode()
    assert not SourceFile.objects.exists()


def test_other_file_types_are_refused_before_reading(team):
    r = post_upload(
        login(team, "auditor"), team.project, SimpleUploadedFile("台账.pdf", b"%PDF-1.4")
    )
    assert "只能上传 Excel（.xlsx、.xls）或 CSV 文件" in r.content.decode()
    assert not SourceFile.objects.exists()


def test_a_bad_amount_is_listed_by_row_and_column_and_nothing_is_imported(team):
    c = login(team, "auditor")
    r = post_upload(c, team.project, csv_upload("捐赠资金登记.csv", cash_rows(8, bad_row=7)))
    imp = LedgerImport.objects.get()
    page = c.get(r["Location"]).content.decode()
    assert "第7行 D列「金额」：金额无法识别：12x3" in page
    assert 'id="n-errors">1<' in page
    assert 'id="accept-button" disabled' in page
    assert "还有 1 处问题，改正之前不会导入任何数据。" in page

    r = c.post(reverse("relief:import_accept", args=[team.project.pk, imp.pk]), follow=True)
    assert "该表还有 1 处问题" in r.content.decode()
    imp.refresh_from_db()
    assert imp.status == ImportStatus.PREVIEW
    assert store_count(team.project) == 0
    assert not list((team.media / "relief").rglob("*.parquet"))


def test_a_file_uploaded_twice_is_refused(team):
    c = login(team, "auditor")
    post_upload(c, team.project, csv_upload("捐赠资金登记.csv", cash_rows(3)))
    r = post_upload(c, team.project, csv_upload("捐赠资金登记（再传）.csv", cash_rows(3)))
    assert r.status_code == 200
    assert "该文件已经上传过（捐赠资金登记.csv" in r.content.decode()
    assert SourceFile.objects.count() == 1


def test_remap_changes_the_kind_and_checks_again(team):
    c = login(team, "auditor")
    rows = [["日期", "受捐单位", "金额"], ["2020-02-01", "麻城市人民医院", "5000"]]
    post_upload(c, team.project, csv_upload("第一批.csv", rows))
    imp = LedgerImport.objects.get()
    assert imp.kind == "" and imp.error_count == 1  # 受捐单位 is not a known header
    page = c.get(reverse("relief:import", args=[team.project.pk, imp.pk])).content.decode()
    assert "无法判断台账类型" in page and 'id="accept-button" disabled' in page

    url = reverse("relief:import_remap", args=[team.project.pk, imp.pk])
    # One field for two columns is refused with a sentence saying which.
    r = c.post(url, {"kind": "appropriation", "col_0": "day", "col_1": "amount", "col_2": "amount"})
    assert "「金额」已对应 B 列" in r.content.decode()
    r = c.post(url, {"kind": "appropriation", "col_0": "day", "col_1": "target", "col_2": "amount"})
    assert r.status_code == 302
    imp.refresh_from_db()
    assert imp.kind == "appropriation" and imp.error_count == 0 and imp.total_rows == 1
    assert imp.mapping == {"0": "day", "1": "target", "2": "amount"}
    page = c.get(r["Location"]).content.decode()
    assert "财政专项资金拨付" in page and 'id="accept-button" disabled' not in page
    c.post(reverse("relief:import_accept", args=[team.project.pk, imp.pk]))
    assert store_count(team.project) == 1


def test_discard_drops_the_proposal_and_keeps_the_file(team):
    c = login(team, "auditor2")
    post_upload(c, team.project, csv_upload("捐赠资金登记.csv", cash_rows(8, bad_row=3)))
    imp = LedgerImport.objects.get()
    r = c.post(reverse("relief:import_discard", args=[team.project.pk, imp.pk]), follow=True)
    assert "已放弃该表的导入" in r.content.decode()
    imp.refresh_from_db()
    assert imp.status == ImportStatus.DISCARDED and SourceFile.objects.count() == 1


def test_progress_reloads_the_page_when_the_check_is_done(team):
    c = login(team, "auditor")
    post_upload(c, team.project, csv_upload("捐赠资金登记.csv", cash_rows(3)))
    imp = LedgerImport.objects.get()
    LedgerImport.objects.filter(pk=imp.pk).update(
        status=ImportStatus.RUNNING, total_rows=1000, done_rows=250
    )
    url = reverse("relief:import_progress", args=[team.project.pk, imp.pk])
    page = c.get(reverse("relief:import", args=[team.project.pk, imp.pk])).content.decode()
    assert f'hx-get="{url}"' in page and 'id="accept-button"' not in page
    r = c.get(url, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "已检查 250 / 1000 行（25%）" in r.content.decode()
    LedgerImport.objects.filter(pk=imp.pk).update(status=ImportStatus.PREVIEW)
    r = c.get(url, HTTP_HX_REQUEST="true")
    assert r["HX-Refresh"] == "true"


def test_the_download_is_the_file_as_received_and_is_logged(team):
    data = "收据编号,日期,捐赠方,金额\nA1,2020-02-01,某公司,100\n".encode("gb18030")
    source = services.file_upload(
        actor=team.users["auditor"],
        project=team.project,
        upload=SimpleUploadedFile("慈善总会 捐款.csv", data),
    )
    r = login(team, "auditor2").get(
        reverse("relief:file_download", args=[team.project.pk, source.pk])
    )
    assert r.status_code == 200
    assert b"".join(r.streaming_content) == data
    assert (
        "attachment" in r["Content-Disposition"] and "filename*=utf-8''" in r["Content-Disposition"]
    )
    assert AuditEvent.objects.filter(
        action="relief.file.download", actor=team.users["auditor2"]
    ).exists()


# --- The team. ---


def test_only_the_lead_adds_and_removes_members(team):
    url = reverse("relief:members", args=[team.project.pk])
    member = login(team, "auditor2")
    page = member.get(url).content.decode()
    assert "auditor" in page and 'id="member-add"' not in page
    r = member.post(url, {"action": "add", "username": "auditor_out", "role": "member"})
    assert r.status_code == 403
    assert not team.project.members.filter(user=team.users["auditor_out"]).exists()

    lead = login(team, "auditor")
    page = lead.get(url).content.decode()
    assert '<option value="auditor_out">' in page and '<option value="staff">' not in page
    lead.post(url, {"action": "add", "username": "auditor_out", "role": "member"})
    assert team.project.members.filter(user=team.users["auditor_out"]).exists()
    assert (
        login(team, "auditor_out")
        .get(reverse("relief:project", args=[team.project.pk]))
        .status_code
        == 200
    )
    # Only auditors can be added.
    r = lead.post(url, {"action": "add", "username": "staff", "role": "member"})
    assert not team.project.members.filter(user=team.users["staff"]).exists()

    out = team.users["auditor_out"]
    lead.post(url, {"action": "role", "user": out.pk, "role": "lead"})
    assert team.project.members.get(user=out).role == "lead"
    lead.post(url, {"action": "remove", "user": out.pk})
    assert not team.project.members.filter(user=out).exists()
    assert (
        login(team, "auditor_out")
        .get(reverse("relief:project", args=[team.project.pk]))
        .status_code
        == 404
    )
    # The last lead cannot leave the project without a lead.
    r = lead.post(url, {"action": "remove", "user": team.users["auditor"].pk}, follow=True)
    assert "项目至少要有一名组长。" in r.content.decode()


# --- The catalogue. ---


@pytest.fixture
def fuzzy(team):
    """Two spellings of hospitals close to ones already in the catalogue."""
    auditor = team.users["auditor"]
    accept_file(
        auditor,
        team.project,
        csv_upload(
            "分配.csv",
            [
                ["日期", "收款单位", "金额"],
                ["2020-02-01", "湖北省黄冈市中心医院", "100"],
                ["2020-02-01", "麻城市人民医院", "100"],
            ],
        ),
    )
    accept_file(
        auditor,
        team.project,
        csv_upload(
            "拨付.csv",
            [
                ["日期", "收款单位", "金额"],
                ["2020-02-02", "湖北黄冈市中心医院", "200"],
                ["2020-02-02", "麻城市人民医院院", "200"],
            ],
        ),
    )
    names = {n.raw: n for n in PartyName.objects.filter(project=team.project)}
    assert not names["湖北黄冈市中心医院"].confirmed and names["湖北黄冈市中心医院"].score < 100
    assert not names["麻城市人民医院院"].confirmed
    return names


def test_similar_names_are_confirmed_or_split(team, fuzzy):
    c = login(team, "auditor2")
    url = reverse("relief:parties", args=[team.project.pk])
    page = c.get(url).content.decode()
    pending = page[
        page.index('id="pending-names"') : page.index("</table>", page.index('id="pending-names"'))
    ]
    assert "湖北黄冈市中心医院" in pending and "湖北省黄冈市中心医院" in pending

    c.post(url, {"name": fuzzy["湖北黄冈市中心医院"].pk, "action": "confirm"})
    name = PartyName.objects.get(pk=fuzzy["湖北黄冈市中心医院"].pk)
    assert name.confirmed and name.party.name == "湖北省黄冈市中心医院"

    c.post(url, {"name": fuzzy["麻城市人民医院院"].pk, "action": "split"})
    name = PartyName.objects.get(pk=fuzzy["麻城市人民医院院"].pk)
    assert name.confirmed and name.party.name == "麻城市人民医院院"
    page = c.get(url).content.decode()
    assert "没有待确认的相似名称。" in page
    with store.project_db(team.project.pk) as con:
        parties = dict(con.execute("SELECT target, target_name FROM entries").fetchall())
    assert parties["湖北黄冈市中心医院"] == "湖北省黄冈市中心医院"
    assert parties["麻城市人民医院院"] == "麻城市人民医院院"
    # Search by name, including the other spellings.
    page = c.get(url, {"q": "湖北黄冈"}).content.decode()
    table = page[page.index('id="parties"') :]
    assert "湖北省黄冈市中心医院" in table and "麻城市人民医院" not in table


def test_a_party_is_edited_and_merged(team, fuzzy):
    c = login(team, "auditor")
    split = services.party_split(actor=team.users["auditor"], name=fuzzy["麻城市人民医院院"])
    keep = Party.objects.get(project=team.project, name="麻城市人民医院")
    url = reverse("relief:party", args=[team.project.pk, keep.pk])
    page = c.get(url).content.decode()
    assert reverse("relief:trace_recipient", args=[team.project.pk, keep.pk]) in page
    r = c.post(
        url,
        {"action": "update", "kind": "hospital", "designated": "on", "beds": "450", "note": "二甲"},
    )
    assert r.status_code == 302
    keep.refresh_from_db()
    assert (keep.kind, keep.designated, keep.beds, keep.note) == ("hospital", True, 450, "二甲")

    r = c.post(
        reverse("relief:party", args=[team.project.pk, split.pk]),
        {"action": "merge", "into": keep.pk},
    )
    assert r["Location"] == url
    assert not Party.objects.filter(pk=split.pk).exists()
    assert set(keep.names.values_list("raw", flat=True)) == {"麻城市人民医院", "麻城市人民医院院"}
    # A party of another project cannot be chosen.
    other = services.project_create(
        actor=team.users["auditor"],
        name="另一项目",
        period_start=team.project.period_start,
        period_end=team.project.period_end,
    )
    stranger = Party.objects.create(project=other, name="外项目单位")
    r = c.post(url, {"action": "merge", "into": stranger.pk})
    assert r.status_code == 200 and Party.objects.filter(pk=keep.pk).exists()


def test_an_item_conversion_changes_pieces_in_the_store(team):
    auditor = team.users["auditor"]
    accept_file(
        auditor,
        team.project,
        csv_upload(
            "捐赠物资登记.csv",
            [
                ["日期", "捐赠方", "物资名称", "数量", "计量单位"],
                ["2020-02-01", "某医疗器械公司", "医用外科口罩", "10", "箱"],
                ["2020-02-02", "某医疗器械公司", "医用外科口罩", "500", "只"],
            ],
        ),
    )
    c = login(team, "auditor2")
    page = c.get(reverse("relief:items", args=[team.project.pk])).content.decode()
    assert "需设置换算" in page and "单位“箱”，1 行" in page
    item = team.project.items.get(name="医用外科口罩")
    with store.project_db(team.project.pk) as con:
        assert con.execute("SELECT sum(pieces), count(pieces) FROM entries").fetchone() == (500, 1)

    url = reverse("relief:item", args=[team.project.pk, item.pk])
    page = c.get(url).content.decode()
    assert "1 箱" in page
    r = c.post(
        url,
        {
            "grade": "surgical",
            "standard": "YY 0469",
            "priority": "on",
            "base_uom": "只",
            "factor_0": "50",
        },
    )
    assert r.status_code == 302
    assert dict(item.conversions.values_list("uom", "factor")) == {"箱": 50}
    with store.project_db(team.project.pk) as con:
        assert con.execute("SELECT sum(pieces) FROM entries").fetchone()[0] == 1000
    page = c.get(reverse("relief:items", args=[team.project.pk])).content.decode()
    assert "1箱=50只" in page and "需设置换算" not in page
    # A new unit needs its factor; clearing a factor removes the conversion.
    r = c.post(url, {"grade": "surgical", "base_uom": "只", "factor_0": "50", "new_uom_0": "盒"})
    assert "请填写 1盒 折合多少只。" in r.content.decode()
    c.post(url, {"grade": "surgical", "base_uom": "只", "factor_0": ""})
    assert not item.conversions.exists()


def test_the_header_dictionary_lists_built_in_words_and_adds_the_projects_own(team):
    c = login(team, "auditor2")
    url = reverse("relief:synonyms", args=[team.project.pk])
    page = c.get(url).content.decode()
    assert "捐赠单位或个人" in page and "还没有添加。" in page
    r = c.post(url, {"header": "受捐单位", "field": "target"}, follow=True)
    assert "已添加：表头「受捐单位」对应「接收方」" in r.content.decode()
    assert ColumnSynonym.objects.get(project=team.project).field == "target"
    # The next upload reads the column with the new word.
    post_upload(
        c,
        team.project,
        csv_upload("拨付.csv", [["日期", "受捐单位", "金额"], ["2020-02-01", "某医院", "5"]]),
    )
    imp = LedgerImport.objects.get()
    assert imp.mapping["1"] == "target" and imp.kind == "appropriation"
