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
        ('audit', '0002_append_only_triggers'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='auditevent',
                    name='at',
                    field=models.DateTimeField(db_index=True, default=fangkong.lib.clock.now, editable=False, verbose_name='时间'),
                ),
            ],
            database_operations=[],
        ),
    ]
