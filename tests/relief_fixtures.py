"""A relief-audit project with the synthetic world's ledgers imported, for page and scope tests."""

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fangkong.accounts import services as account_services
from fangkong.accounts.models import Role, User
from fangkong.relief import services
from fangkong.relief.ledgers import write_all
from fangkong.relief.models import AuditProject, ImportStatus
from fangkong.relief.world import World, generate
from tests.world import PASSWORD


@dataclass
class ReliefWorld:
    project: AuditProject
    truth: World
    users: dict[str, User] = field(default_factory=dict)
    files: dict = field(default_factory=dict)  # file name → SourceFile
    imports: list = field(default_factory=list)


def import_folder(actor, project, folder: Path) -> list:
    """Upload every file in `folder` through the real importer and accept each clean sheet."""
    done = []
    for path in sorted(folder.iterdir()):
        upload = services.source_for_upload_path(path)
        try:
            source = services.file_upload(actor=actor, project=project, upload=upload)
        finally:
            upload.close()
        for imp in source.imports.all():
            imp = services.run_check(import_id=imp.pk)
            assert imp.error_count == 0, (path.name, imp.sheet, imp.kind, imp.errors[:5])
            done.append(services.import_accept(actor=actor, imp=imp))
    return done


@pytest.fixture
def relief_world(world, settings, tmp_path) -> ReliefWorld:
    """Auditors: `auditor` (lead) and `auditor2` (member) of one project; `auditor_out` of none."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_relief_world(world, tmp_path)


def build_relief_world(world, tmp_path: Path) -> ReliefWorld:
    """The project, its team and the imported world (MEDIA_ROOT must already point at tmp)."""
    users = {}
    for key in ("auditor", "auditor2", "auditor_out"):
        u = User.objects.create_user(key, password=PASSWORD)
        account_services.role_assign(actor=None, user=u, role=Role.AUDITOR)
        users[key] = u
        world.users[key] = u
    truth = generate(2020)
    project = services.project_create(
        actor=users["auditor"],
        name="黄冈市疫情防控资金物资跟踪审计",
        period_start=truth.flows[0].day,
        period_end=truth.flows[-1].day,
        scope="新冠肺炎疫情防控专项资金和捐赠款物的筹集、分配、使用",
        bodies="黄冈市财政局\n黄冈市红十字会\n黄冈市慈善总会",
    )
    services.member_set(
        actor=users["auditor"], project=project, user=users["auditor2"], role="member"
    )
    folder = tmp_path / "ledgers"
    write_all(truth, folder)
    rw = ReliefWorld(project=project, truth=truth, users=users)
    rw.imports = import_folder(users["auditor"], project, folder)
    rw.files = {f.name: f for f in project.files.all()}
    assert all(i.status == ImportStatus.DONE for i in rw.imports)
    return rw
