"""Migrations that move state without moving data, tried on the engine the suite runs on."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_MOVE = [("org", "0007_merge_20261208_0642"), ("accounts", "0003_batches_codes_throttle")]


def _latest(executor: MigrationExecutor) -> list[tuple[str, str]]:
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_role_assignments_move_to_org_and_keep_their_rows():
    """accounts 0004 / org 0008: the table, its rows, constraints and content type stay."""
    executor = MigrationExecutor(connection)
    latest = _latest(executor)
    try:
        executor.migrate(BEFORE_MOVE)
        old = executor.loader.project_state(BEFORE_MOVE).apps
        level = old.get_model("org", "UnitLevel").objects.get_or_create(code="city")[0]
        unit = old.get_model("org", "OrgUnit").objects.create(
            code="HG", name="黄冈市审计局", level=level, path="00000001"
        )
        user = old.get_model("accounts", "User").objects.create(username="coord")
        assignment = old.get_model("accounts", "RoleAssignment").objects.create(
            user=user, role="coordinator", unit=unit
        )
        content_types = old.get_model("contenttypes", "ContentType").objects
        ct = content_types.get_or_create(app_label="accounts", model="roleassignment")[0]
        assert not content_types.filter(app_label="org", model="roleassignment").exists()

        executor = MigrationExecutor(connection)
        executor.migrate(latest)
        from django.contrib.contenttypes.models import ContentType

        from fangkong.org.models import RoleAssignment

        ContentType.objects.clear_cache()
        moved = RoleAssignment.objects.get(pk=assignment.pk)
        assert (moved.user.username, moved.role, moved.unit.code) == ("coord", "coordinator", "HG")
        assert RoleAssignment._meta.db_table == "accounts_roleassignment"
        assert ContentType.objects.get_for_model(RoleAssignment).pk == ct.pk
        assert not ContentType.objects.filter(app_label="accounts", model="roleassignment").exists()
        # The unique constraint is the table's own, so it still refuses a second equal grant.
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            RoleAssignment.objects.create(user=moved.user, role="coordinator", unit=moved.unit)
    finally:
        MigrationExecutor(connection).migrate(latest)
