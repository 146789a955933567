"""A relief-audit project with the synthetic world's ledgers imported, for page and scope tests."""

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fangkong.accounts.models import User
from fangkong.org import services as org_services
from fangkong.org.models import Role
from fangkong.relief import services
from fangkong.relief.ledger import store
from fangkong.relief.models import (
    AuditProject,
    ImportStatus,
    Item,
    ItemName,
    LedgerImport,
    Party,
    PartyName,
    ProjectMember,
    SourceFile,
    UnitConversion,
)
from fangkong.relief.synthetic.ledgers import write_all
from fangkong.relief.synthetic.world import World, generate
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
        for imp in services.path_import(actor=actor, project=project, path=path):
            assert imp.error_count == 0, (path.name, imp.sheet, imp.kind, imp.errors[:5])
            done.append(imp)
    return done


@pytest.fixture
def relief_world(world, settings, tmp_path) -> ReliefWorld:
    """Auditors: `auditor` (lead) and `auditor2` (member) of one project; `auditor_out` of none."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_relief_world(world, tmp_path)


# The imported world is built once per test session through the real importer, then restored
# for each later test from a snapshot of its rows and files (same primary keys, so the Parquet
# files' file and import ids still match): importing all ledgers costs seconds, restoring does not.
_SNAPSHOT: dict = {}
_MODELS = [
    AuditProject,
    ProjectMember,
    SourceFile,
    LedgerImport,
    Party,
    PartyName,
    Item,
    ItemName,
    UnitConversion,
]
_USER_FIELDS = {"created_by_id", "uploaded_by_id", "user_id"}


def _take_snapshot(project) -> None:
    by_id = dict(User.objects.values_list("id", "username"))
    rows = {}
    for model in _MODELS:
        qs = (
            model.objects.filter(item__project=project)
            if model is UnitConversion
            else (
                model.objects.filter(pk=project.pk)
                if model is AuditProject
                else model.objects.filter(project=project)
            )
        )
        rows[model] = [
            {k: (by_id[v] if k in _USER_FIELDS and v else v) for k, v in r.items()}
            for r in qs.values()
        ]
    cache = Path(tempfile.mkdtemp(prefix="fk-relief-snapshot-"))
    shutil.copytree(store.project_dir(project.pk), cache / "project")
    _SNAPSHOT.update(rows=rows, dir=cache, project_id=project.pk)


def _restore_snapshot() -> AuditProject:
    ids = dict(User.objects.values_list("username", "id"))
    for model, rows in _SNAPSHOT["rows"].items():
        model.objects.bulk_create(
            [
                model(**{k: (ids[v] if k in _USER_FIELDS and v else v) for k, v in r.items()})
                for r in rows
            ]
        )
    shutil.copytree(_SNAPSHOT["dir"] / "project", store.project_dir(_SNAPSHOT["project_id"]))
    return AuditProject.objects.get(pk=_SNAPSHOT["project_id"])


def build_relief_world(world, tmp_path: Path) -> ReliefWorld:
    """The project, its team and the imported world (MEDIA_ROOT must already point at tmp)."""
    users = {}
    for key in ("auditor", "auditor2", "auditor_out"):
        u = User.objects.create_user(key, password=PASSWORD)
        org_services.role_assign(actor=None, user=u, role=Role.AUDITOR)
        users[key] = u
        world.users[key] = u
    truth = generate(2020)
    restored = (
        bool(_SNAPSHOT) and not AuditProject.objects.filter(pk=_SNAPSHOT["project_id"]).exists()
    )
    if restored:
        project = _restore_snapshot()
    else:
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
        import_folder(users["auditor"], project, folder)
        _take_snapshot(project)
    rw = ReliefWorld(project=project, truth=truth, users=users)
    rw.imports = list(LedgerImport.objects.filter(project=project).order_by("pk"))
    rw.files = {f.name: f for f in project.files.all()}
    assert rw.imports and all(i.status == ImportStatus.DONE for i in rw.imports)
    return rw
