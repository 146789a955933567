"""The roll-up with a child unit whose name is markup (the stored XSS of issue 11).

A liaison can name a unit through the roster import; the coordinator's roll-up used to put the
children's names into an inline script with |safe, so `</script><script>…` ran in their browser.
"""

import json
import re
from datetime import date

import pytest

from fangkong.org import services as org_services
from fangkong.org.models import UnitLevel
from fangkong.reports.models import ReportForm
from tests.hostile import IMG, SCRIPT

NAME = "恶意单位" + SCRIPT + IMG


@pytest.fixture
def hostile_rollup(world):
    form = ReportForm.objects.create(
        code="daily", name="日报", root=world.units["HB"], active_from=date(2020, 1, 1)
    )
    form.levels.set(UnitLevel.objects.filter(code__in=["province", "city", "county"]))
    org_services.unit_create(
        actor=world.users["admin"],
        code="HG-EVIL",
        name=NAME,
        level=UnitLevel.objects.get(code="county"),
        parent=world.units["HG"],
    )
    return form


def test_the_rollup_carries_a_hostile_name_as_data(hostile_rollup, client_for):
    r = client_for("city_coord").get(f"/reports/{hostile_rollup.pk}/rollup/?node=HG&day=2020-02-03")
    assert r.status_code == 200
    html = r.content.decode()
    # Nowhere in the page does the name appear as markup.
    assert SCRIPT not in html
    assert IMG not in html
    # The chart reads it from a JSON island, where it parses back to the exact name.
    island = re.search(r'<script id="rollup-chart" type="application/json">(.*?)</script>', html)
    assert island, "the chart data is not in a json_script island"
    assert NAME in json.loads(island.group(1))["children"]
    # The table shows it as text.
    assert "恶意单位&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
