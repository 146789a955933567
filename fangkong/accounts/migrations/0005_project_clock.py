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
        ('accounts', '0004_roleassignment_to_org'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='apitoken',
                    name='created_at',
                    field=models.DateTimeField(default=fangkong.lib.clock.now, editable=False),
                ),
            ],
            database_operations=[],
        ),
    ]
