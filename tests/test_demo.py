"""The demo organisation: size, shape, valid ID numbers, idempotence and working demo accounts."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from fangkong.accounts.models import User
from fangkong.demo import organisation as demo
from fangkong.lib import crypto, idcard
from fangkong.org.models import FamilyMember, OrgUnit, Person, ReportingLine

DOCS = Path(__file__).resolve().parent.parent / "docs" / "demo-accounts.md"


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker):
    """Load the demo once for the module inside a transaction that is rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("load_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def loaded(demo_output, db):
    return demo_output


def test_counts_in_range(loaded):
    assert OrgUnit.objects.count() > 300
    assert 3500 <= Person.objects.count() <= 4500
    assert FamilyMember.objects.count() > 3000
    assert "units" in loaded and demo.PASSWORD in loaded


def test_all_cities_and_counties(loaded):
    cities = set(
        OrgUnit.objects.filter(parent__code=demo.ROOT_CODE, level__code="city").values_list(
            "name", flat=True
        )
    )
    assert len(cities) == 17
    assert {"黄冈市审计局", "孝感市审计局", "荆州市审计局", "神农架林区审计局"} <= cities
    huanggang = set(
        OrgUnit.objects.filter(parent__code="HG", level__code="county").values_list(
            "name", flat=True
        )
    )
    assert len(huanggang) == 10 and "黄州区审计局" in huanggang
    for county in OrgUnit.objects.filter(level__code="county"):
        assert 2 <= county.children.count() <= 3, county.code


def test_commands_receive_county_reports(loaded):
    for city in demo.COMMAND_CITIES:
        command = OrgUnit.objects.get(code=f"{city}-ZHB")
        assert command.parent_id is None
        counties = OrgUnit.objects.filter(parent__code=city, level__code="county")
        lines = ReportingLine.objects.filter(superior=command)
        assert set(lines.values_list("unit", flat=True)) == set(
            counties.values_list("pk", flat=True)
        )


def test_every_unit_has_head_and_liaison(loaded):
    for unit in OrgUnit.objects.select_related("first_responsible__unit"):
        assert unit.first_responsible is not None, unit.code
        assert unit.first_responsible.unit.path.startswith(unit.path)
        assert unit.liaisons.count() == 1, unit.code


def test_id_numbers_valid_and_unique(loaded):
    rows = list(Person.objects.values_list("id_number_encrypted", "id_number_hash"))
    numbers = [crypto.decrypt(encrypted) for encrypted, _ in rows]
    assert all(idcard.is_valid(n) and n.startswith("42") for n in numbers)
    assert len(set(numbers)) == len(numbers)
    assert [h for _, h in rows] == [crypto.keyed_hash(n) for n in numbers]


def test_second_run_changes_nothing(loaded):
    def state():
        return (
            demo.counts(),
            list(OrgUnit.objects.order_by("pk").values_list("pk", "updated_at")),
            list(Person.objects.order_by("pk").values_list("pk", "updated_at")),
        )

    before = state()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "未做任何修改" in out.getvalue() and demo.PASSWORD in out.getvalue()
    assert state() == before


@pytest.mark.parametrize("account", demo.ACCOUNTS, ids=lambda a: a.username)
def test_demo_account_logs_in(loaded, account):
    assert not User.objects.get(username=account.username).must_change_password
    response = Client().post(
        "/accounts/login/",
        {"username": account.username, "password": demo.PASSWORD},
        follow=True,
    )
    assert response.status_code == 200
    assert response.resolver_match.url_name == "home"
    assert response.context["user"].username == account.username


def test_staff_account_has_family(loaded):
    person = Person.objects.get(user__username="hz_staff")
    assert person.unit.code == "HG-HZ-CZ"
    assert person.family.count() >= 2


def test_docs_list_every_account(loaded):
    text = DOCS.read_text()
    assert demo.PASSWORD in text
    for account in demo.ACCOUNTS:
        assert f"`{account.username}`" in text


def test_demo_today_adds_one_morning_once(loaded):
    from fangkong.health.models import CheckIn
    from fangkong.reports.models import CurrentReport

    call_command("demo_today", stdout=StringIO())
    checkins, reports = CheckIn.objects.count(), CurrentReport.objects.count()
    assert checkins > 3000 and reports > 50
    out = StringIO()
    call_command("demo_today", stdout=out)
    assert "未做修改" in out.getvalue()
    assert (CheckIn.objects.count(), CurrentReport.objects.count()) == (checkins, reports)


def test_every_staff_member_can_sign_in_with_their_mobile_number(loaded):
    assert not Person.objects.filter(user__isnull=True).exists()
    named = [a.username for a in demo.ACCOUNTS]
    person = Person.objects.exclude(user__username__in=named).order_by("pk")[123]
    assert person.user.username == person.mobile
    response = Client().post(
        "/accounts/login/", {"username": person.mobile, "password": demo.PASSWORD}, follow=True
    )
    assert response.context["user"].username == person.mobile
    assert "manage.py demo_accounts" in loaded


def test_demo_accounts_lists_a_units_usernames(loaded):
    out = StringIO()
    call_command("demo_accounts", "HG-HZ", stdout=out)
    text = out.getvalue()
    liaison = Person.objects.get(user__username="hz_liaison")
    assert "hz_liaison" in text and "联络员" in text and demo.PASSWORD in text
    clerk = Person.objects.filter(unit__code="HG-HZ-ZH").exclude(user__username="hz_duty").first()
    assert clerk.mobile in text and clerk.name in text
    assert liaison.name in text
