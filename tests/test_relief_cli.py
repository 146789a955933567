"""The `relief` management command: create a project, import a folder, list the catalogue and the
findings, always as --user and only within that user's projects."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from fangkong.accounts.models import User
from fangkong.org import services as org_services
from fangkong.org.models import Role
from fangkong.relief import services
from fangkong.relief.findings import docx
from fangkong.relief.models import (
    AuditProject,
    ImportStatus,
    LedgerImport,
    PartyName,
    SourceFile,
)
from fangkong.relief.synthetic.ledgers import write_all
from fangkong.relief.synthetic.world import generate
from tests.world import PASSWORD

GARBAGE = "损坏的台账.xlsx"


def relief(*args) -> str:
    out = io.StringIO()
    call_command("relief", *[str(a) for a in args], stdout=out)
    return out.getvalue()


@pytest.fixture
def auditors(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    users = {}
    for key in ("cli_auditor", "cli_outsider"):
        users[key] = User.objects.create_user(key, password=PASSWORD)
        org_services.role_assign(actor=None, user=users[key], role=Role.AUDITOR)
    return users


def create_project(user: str = "cli_auditor") -> AuditProject:
    out = relief(
        "project-create",
        "--name",
        "黄冈市疫情防控资金物资跟踪审计",
        "--start",
        "2020-01-23",
        "--end",
        "2020-03-31",
        "--scope",
        "疫情防控专项资金和捐赠款物",
        "--bodies",
        "黄冈市财政局,黄冈市红十字会、黄冈市慈善总会",
        "--user",
        user,
    )
    return AuditProject.objects.get(pk=int(out.strip()))


def test_project_create(auditors):
    project = create_project()
    assert project.body_list() == ["黄冈市财政局", "黄冈市红十字会", "黄冈市慈善总会"]
    assert project.members.get().user.username == "cli_auditor"
    # A project without data still has a report draft: it says there is nothing yet.
    from docx import Document

    text = [p.text for p in Document(io.BytesIO(docx.build_docx(project))).paragraphs]
    assert "尚未导入台账数据。" in text and "截至本报告日，审计组尚未确认问题。" in text
    with pytest.raises(CommandError, match="只有审计人员可以创建审计项目"):
        create_project("staff")
    with pytest.raises(CommandError, match="找不到用户“nobody”"):
        create_project("nobody")
    with pytest.raises(CommandError, match="2020-02-30"):
        relief("project-create", "--name", "x", "--start", "2020-02-30", "--end", "2020-03-01",
               "--user", "cli_auditor")  # fmt: skip


def test_import_folder_list_catalogue_and_findings(auditors, tmp_path):
    project = create_project()
    folder = tmp_path / "ledgers"
    written = write_all(generate(2020), folder)  # whatever ledgers the generator writes today
    (folder / GARBAGE).write_bytes(b"PK\x03\x04" + bytes(range(256)) * 8)

    # Without --yes: every sheet is checked and reported, nothing is imported.
    with pytest.raises(CommandError) as exc:
        relief("import", project.pk, folder, "--user", "cli_auditor")
    assert exc.value.returncode == 3
    assert GARBAGE in str(exc.value)
    assert not LedgerImport.objects.filter(project=project, status=ImportStatus.DONE).exists()

    # With --yes: clean sheets are imported, the unreadable file is named and not stored.
    out = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command(
            "relief", "import", str(project.pk), str(folder), "--user", "cli_auditor", "--yes",
            stdout=out,
        )  # fmt: skip
    assert exc.value.returncode == 3 and GARBAGE in str(exc.value)
    text = out.getvalue()
    assert f"{GARBAGE}\n  无法读取，未保存" in text
    for name in written:
        assert name in text
    assert not SourceFile.objects.filter(project=project, name=GARBAGE).exists()
    assert set(project.files.values_list("name", flat=True)) == set(written)
    imports = LedgerImport.objects.filter(project=project)
    assert imports.exists() and all(i.status == ImportStatus.DONE for i in imports)
    assert "已导入" in text

    # Run again on the clean folder: nothing new, nothing duplicated, exit 0.
    (folder / GARBAGE).unlink()
    text = relief("import", project.pk, folder, "--user", "cli_auditor", "--yes")
    assert text.count("已上传过") == len(written)
    assert project.files.count() == len(written)

    # Someone outside the team is refused, whatever the subcommand.
    for args in (
        ("import", project.pk, folder),
        ("parties", project.pk),
        ("items", project.pk),
        ("findings", project.pk, "--json"),
    ):
        with pytest.raises(CommandError, match="不是审计项目 .* 的成员"):
            relief(*args, "--user", "cli_outsider")

    parties = relief("parties", project.pk, "--user", "cli_auditor")
    for party in project.parties.all():
        assert f"{party.pk}\t{party.name}" in parties
    unconfirmed = relief("parties", project.pk, "--unconfirmed", "--user", "cli_auditor")
    fuzzy = PartyName.objects.filter(project=project, confirmed=False)
    assert all(f"“{n.raw}”" in unconfirmed for n in fuzzy)
    assert ("没有待确认的近似写法" in unconfirmed) == (not fuzzy)
    items = relief("items", project.pk, "--user", "cli_auditor")
    for item in project.items.all():
        assert f"{item.pk}\t{item.name}" in items

    imp = imports.order_by("id").first()
    finding = services.finding_add(
        actor=auditors["cli_auditor"],
        project=project,
        title="捐赠资金未及时入账",
        severity="high",
        amount_fen=123450,
        quantity=10,
        rule="《中华人民共和国慈善法》第五十五条",
        evidence=[{"source_id": imp.source_id, "sheet": imp.sheet, "row_no": imp.header_row + 1}],
    )
    data = json.loads(relief("findings", project.pk, "--json", "--user", "cli_auditor"))
    assert data == [
        {
            "id": finding.pk,
            "test_id": "",
            "title": "捐赠资金未及时入账",
            "severity": "high",
            "status": "open",
            "amount_fen": 123450,
            "amount_yuan": "1234.50",
            "quantity": 10,
            "rule": "《中华人民共和国慈善法》第五十五条",
            "evidence": [
                {
                    "file": imp.source.name,
                    "sha256": imp.source.sha256,
                    "sheet": imp.sheet,
                    "row": imp.header_row + 1,
                }
            ],
        }
    ]
    assert (
        json.loads(
            relief(
                "findings", project.pk, "--json", "--status", "confirmed", "--user", "cli_auditor"
            )
        )
        == []
    )
    text = relief("findings", project.pk, "--user", "cli_auditor")
    assert "捐赠资金未及时入账" in text and "1,234.50 元" in text and "待复核" in text
