"""RoleAssignment now belongs to org (org 0008 takes it into its state): state only, the table
`accounts_roleassignment` and its rows stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_batches_codes_throttle"),
        ("org", "0008_roleassignment"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="RoleAssignment")],
            database_operations=[],
        ),
    ]
