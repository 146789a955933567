"""RoleAssignment moves from accounts to org (issue 13): state only, the table stays.

The role grant belongs to the org tree, so `org` no longer imports `accounts`. No data moves: the
model keeps the table `accounts_roleassignment`, its constraints and indexes, and this migration
only tells Django's migration state that org owns it (accounts 0004 removes it from accounts'
state). The content type is renamed so that permissions and admin log entries stay attached.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def rename_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if ContentType.objects.using(db).filter(app_label="org", model="roleassignment").exists():
        return
    ContentType.objects.using(db).filter(app_label="accounts", model="roleassignment").update(
        app_label="org"
    )


def restore_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if ContentType.objects.using(db).filter(app_label="accounts", model="roleassignment").exists():
        return
    ContentType.objects.using(db).filter(app_label="org", model="roleassignment").update(
        app_label="accounts"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0007_merge_20261208_0642"),
        ("accounts", "0003_batches_codes_throttle"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RoleAssignment",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("role", models.CharField(choices=[("admin", "系统管理员"), ("coordinator", "协调员"), ("duty_officer", "值班员"), ("auditor", "审计人员"), ("deputy_liaison", "副联络员")], max_length=20, verbose_name="角色")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("unit", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="org.orgunit")),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="role_assignments", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "verbose_name": "角色分配",
                        "verbose_name_plural": "角色分配",
                        "db_table": "accounts_roleassignment",
                        "constraints": [
                            models.UniqueConstraint(fields=("user", "role", "unit"), name="uniq_role_assignment"),
                            models.CheckConstraint(condition=models.Q(("role__in", ["admin", "auditor"]), ("unit__isnull", False), _connector="OR"), name="role_needs_unit"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(rename_content_type, restore_content_type),
    ]
