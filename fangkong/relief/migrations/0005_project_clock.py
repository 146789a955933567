"""The project clock everywhere (issue 13): creation and change times default to
`fangkong.lib.clock.now` instead of `auto_now`/`auto_now_add`, so a frozen test clock and the
server clock agree with every other timestamp.

State only: neither form has a database default, the column is the same, so no SQL runs (a plain
AlterField would make SQLite rebuild each table, and rebuilding the audit table would drop its
append-only trigger).
"""

import fangkong.lib.clock
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('relief', '0004_import_heartbeat'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='auditproject',
                    name='created_at',
                    field=models.DateTimeField(default=fangkong.lib.clock.now, editable=False),
                ),
                migrations.AlterField(
                    model_name='cataloguerun',
                    name='started_at',
                    field=models.DateTimeField(default=fangkong.lib.clock.now, editable=False),
                ),
                migrations.AlterField(
                    model_name='columnsynonym',
                    name='created_at',
                    field=models.DateTimeField(default=fangkong.lib.clock.now, editable=False),
                ),
                migrations.AlterField(
                    model_name='finding',
                    name='created_at',
                    field=models.DateTimeField(default=fangkong.lib.clock.now, editable=False),
                ),
                migrations.AlterField(
                    model_name='findingnote',
                    name='created_at',
                    field=models.DateTimeField(default=fangkong.lib.clock.now, editable=False),
                ),
                migrations.AlterField(
                    model_name='ledgerimport',
                    name='created_at',
                    field=models.DateTimeField(default=fangkong.lib.clock.now, editable=False),
                ),
                migrations.AlterField(
                    model_name='sourcefile',
                    name='uploaded_at',
                    field=models.DateTimeField(default=fangkong.lib.clock.now, editable=False),
                ),
            ],
            database_operations=[],
        ),
    ]
