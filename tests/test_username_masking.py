"""Usernames that are mobile numbers stay masked where a user is shown to others (issue 11).

Accounts from the roster are named by the person's mobile (ACCOUNT_USERNAME_RULE): the number was
in the top bar of every page and in the audit trail's "操作人" column, and in lists of role holders
and users. The policy: the top bar names the person; wherever a user is shown to someone else
(lists, "by whom" lines, the audit trail) it is 姓名（139****5678）; the whole number is shown only
where its owner types or receives it (sign-in, activation, slip, SMS) and on an administrator's
password-reset answer.
"""

from datetime import date

import pytest
from django.test import Client

from fangkong.accounts.models import User
from fangkong.audit.models import AuditEvent
from fangkong.lib import idcard
from fangkong.org import services as org
from fangkong.org.models import Role
from tests.world import PASSWORD

MOBILE, MASKED = "13900005678", "139****5678"


@pytest.fixture
def mobile_user(world):
    """吴芳 of 黄州区审计局, whose username is her mobile number (as accounts from the roster are)."""
    person = org.person_create(
        actor=world.users["admin"],
        unit=world.units["HG-HZ"],
        name="吴芳",
        mobile=MOBILE,
        id_number=idcard.make("421102", date(1990, 5, 6), 321),
    )
    user = User.objects.create_user(MOBILE, password=PASSWORD)
    person.user = user
    person.save(update_fields=["user"])
    return user


def signed_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_top_bar_names_the_person_not_the_number(mobile_user):
    html = signed_in(mobile_user).get("/").content.decode()
    assert 'title="个人设置">吴芳</a>' in html
    assert MOBILE not in html


def test_the_audit_trail_keeps_the_number_masked(world, client_for, mobile_user):
    signed_in(mobile_user).post("/accounts/tokens/", {"name": "脚本"})
    event = AuditEvent.objects.get(action="token.create")
    assert event.actor == mobile_user
    assert event.actor_name == MASKED
    admin = client_for("admin")
    html = admin.get("/audit/", {"action": "token.create"}).content.decode()
    assert f"<td><bdi>吴芳</bdi>（{MASKED}）</td>" in html
    assert MOBILE not in html
    # The administrator finds the events by the name, or by the whole username typed in full.
    for actor in ("吴芳", MOBILE, "5678"):
        page = admin.get("/audit/", {"actor": actor, "action": "token.create"})
        assert list(page.context["page"]) == [event], actor
    # Events written before the rule, with the number in clear, are shown masked too.
    AuditEvent.objects.create(actor=mobile_user, actor_name=MOBILE, action="old.event")
    html = admin.get("/audit/", {"action": "old.event"}).content.decode()
    assert f"<td><bdi>吴芳</bdi>（{MASKED}）</td>" in html and MOBILE not in html


def test_lists_of_users_show_the_number_masked(world, client_for, mobile_user):
    hz = world.units["HG-HZ"]
    org.role_grant(
        actor=world.users["admin"], unit=hz, role=Role.DUTY_OFFICER, person=mobile_user.person
    )
    html = client_for("city_coord").get("/accounts/units/HG-HZ/roles/").content.decode()
    assert MASKED in html and MOBILE not in html
    admin = client_for("admin")
    html = admin.get("/accounts/users/").content.decode()
    assert f"<td>{MASKED}</td><td>吴芳</td>" in html and MOBILE not in html
    # The administrator still finds the account by the whole number.
    assert [u.pk for u in admin.get("/accounts/users/", {"q": MOBILE}).context["page"]] == [
        mobile_user.pk
    ]
    # Handles chosen by an administrator are not personal data: shown as they are.
    assert str(world.users["county_liaison"]) == "陈晓东（county_liaison）"
    assert str(mobile_user) == f"吴芳（{MASKED}）"
