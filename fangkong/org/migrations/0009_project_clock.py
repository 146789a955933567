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
        ('org', '0008_roleassignment'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='familymember',
                    name='created_at',
                    field=models.DateTimeField(default=fangkong.lib.clock.now, editable=False),
                ),
                migrations.AlterField(
                    model_name='leadinggroupseat',
                    name='created_at',
                    field=models.DateTimeField(default=fangkong.lib.clock.now, editable=False),
                ),
                migrations.AlterField(
                    model_name='orgunit',
                    name='created_at',
                    field=models.DateTimeField(default=fangkong.lib.clock.now, editable=False),
                ),
                migrations.AlterField(
                    model_name='orgunit',
                    name='updated_at',
                    field=models.DateTimeField(default=fangkong.lib.clock.now, editable=False),
                ),
                migrations.AlterField(
                    model_name='person',
                    name='created_at',
                    field=models.DateTimeField(default=fangkong.lib.clock.now, editable=False),
                ),
                migrations.AlterField(
                    model_name='person',
                    name='updated_at',
                    field=models.DateTimeField(default=fangkong.lib.clock.now, editable=False),
                ),
                migrations.AlterField(
                    model_name='roleassignment',
                    name='created_at',
                    field=models.DateTimeField(default=fangkong.lib.clock.now, editable=False),
                ),
                migrations.AlterField(
                    model_name='rosterupload',
                    name='created_at',
                    field=models.DateTimeField(default=fangkong.lib.clock.now, editable=False, verbose_name='上传时间'),
                ),
            ],
            database_operations=[],
        ),
    ]
