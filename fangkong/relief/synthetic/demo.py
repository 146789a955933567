"""The relief-audit demo: a project whose team is the demo auditor, with the synthetic world's
ledgers (anomalies planted, as an auditor would meet them) imported through the real importer."""

import tempfile
from pathlib import Path

from django.db import transaction

from fangkong.accounts.models import User
from fangkong.relief import services
from fangkong.relief.models import AuditProject
from fangkong.relief.synthetic import injectors
from fangkong.relief.synthetic.ledgers import write_all
from fangkong.relief.synthetic.world import generate

DEMO_NAME = "黄冈市新冠肺炎疫情防控资金和捐赠款物跟踪审计（演示）"
DEMO_SEED = 2020


def find(user) -> AuditProject | None:
    return AuditProject.objects.filter(name=DEMO_NAME, members__user=user).first()


def load(username: str = "auditor", *, run_catalogue: bool = False) -> tuple[AuditProject, bool]:
    """Create the demo project for `username` once; returns (project, created)."""
    user = User.objects.get(username=username)
    existing = find(user)
    if existing:
        return existing, False
    world = generate(DEMO_SEED)
    injectors.plant(world, DEMO_SEED)
    with transaction.atomic():
        project = services.project_create(
            actor=user,
            name=DEMO_NAME,
            period_start=world.flows[0].day,
            period_end=world.end,
            scope="新冠肺炎疫情防控专项资金和社会捐赠款物的归集、管理、分配和使用",
            bodies="黄冈市财政局\n黄冈市卫生健康委员会\n黄冈市红十字会\n黄冈市慈善总会\n黄冈市疫情防控指挥部",
        )
    with tempfile.TemporaryDirectory(prefix="fk-relief-demo-") as tmp:
        folder = Path(tmp)
        write_all(world, folder)
        for path in sorted(folder.iterdir()):
            services.path_import(actor=user, project=project, path=path)
    if run_catalogue:
        services.catalogue_run(actor=user, project=project)
    return project, True
