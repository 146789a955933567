"""Sign-in lock-out (accounts/throttle.py): guessing is slowed and stopped, but an attacker who
knows a username cannot keep its owner out, from other addresses or from behind the same NAT."""

import re
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from fangkong.accounts import throttle
from fangkong.accounts.models import AccessCode, ThrottleEvent
from fangkong.audit.models import AuditEvent
from fangkong.notify.delivery import deliver_due
from fangkong.notify.models import Message
from tests.world import PASSWORD

T0 = timezone.make_aware(datetime(2020, 2, 3, 8, 0))
OFFICE = "10.1.1.1"  # the NAT of the staff member's office, shared with the attacker


@pytest.fixture
def frozen(clock):
    clock.freeze(T0)
    return clock


def browser(address=OFFICE) -> Client:
    return Client(REMOTE_ADDR=address)


def login(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password, **extra})


def attack(username, times, addresses=("203.0.113.7",)):
    """Wrong passwords for `username`, each from a fresh cookie-less client."""
    for i in range(times):
        login(browser(addresses[i % len(addresses)]), username, f"guess-{i}")


def error_of(response) -> str:
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


def sms_code(http_receiver) -> str:
    deliver_due()
    return re.search(r"验证码为 (\d{6})", http_receiver.requests[-1]["json"]["content"])[1]


def test_right_password_signs_in_and_trusts_the_browser(world, frozen):
    c = browser()
    r = login(c, "staff", PASSWORD)
    assert r.status_code == 302
    assert r.cookies[throttle.DEVICE_COOKIE]["httponly"]


def test_guessing_is_slowed_down_with_growing_delays(world, frozen):
    c = browser()
    for i in range(settings.SIGNIN_ACCOUNT_FREE):
        assert login(c, "staff", f"guess-{i}").status_code == 200  # free tries
    r = login(c, "staff", PASSWORD)  # even the right password waits now
    assert r.status_code == 429
    assert error_of(r) == throttle.ERR_ACCOUNT_WAIT.format(wait="1 分钟")
    assert not r.wsgi_request.user.is_authenticated
    # Waiting gives one more try; failing it doubles the wait: 1, 2, 4, 8, 15, 15 minutes.
    for wait in (1, 2, 4, 8, 15, 15):
        frozen.advance(timedelta(minutes=wait) - timedelta(seconds=1))
        assert login(c, "staff", "guess").status_code == 429  # not yet; and not counted
        frozen.advance(timedelta(seconds=1))
        assert login(c, "staff", "guess").status_code == 200
    failures = ThrottleEvent.objects.filter(username="staff", kind=throttle.PASSWORD).count()
    assert failures == settings.SIGNIN_ACCOUNT_FREE + 6  # refused tries are not failures
    frozen.advance(timedelta(minutes=15))
    assert login(c, "staff", PASSWORD).status_code == 302
    # The sign-in clears the account's record: the next mistake is free again.
    assert login(browser(), "staff", "typo").status_code == 200
    assert login(browser(), "staff", PASSWORD).status_code == 302


def test_guessing_from_one_address_is_stopped_for_every_account(world, frozen):
    names = ["leader", "county_liaison", "city_coord", "outsider", "prov_coord", "admin"]
    for i in range(settings.SIGNIN_ADDRESS_LIMIT):
        login(browser("198.51.100.9"), names[i % len(names)], f"guess-{i}")
    r = login(browser("198.51.100.9"), "staff", PASSWORD)
    assert r.status_code == 429
    assert error_of(r) == throttle.ERR_ADDRESS_WAIT.format(wait="15 分钟")
    assert login(browser("198.51.100.10"), "staff", PASSWORD).status_code == 302
    frozen.advance(timedelta(minutes=settings.SIGNIN_WINDOW_MINUTES))
    assert login(browser("198.51.100.9"), "staff", PASSWORD).status_code == 302


def test_attackers_elsewhere_cannot_keep_the_user_out_of_their_own_browser(world, frozen):
    mine = browser()
    assert login(mine, "staff", PASSWORD).status_code == 302
    mine.post("/accounts/logout/")
    attack("staff", 40, addresses=("203.0.113.7", "203.0.113.8", OFFICE))
    assert login(browser(), "staff", PASSWORD).status_code == 429  # a new browser must wait
    assert login(mine, "staff", PASSWORD).status_code == 302  # the user's own browser need not


def test_a_trusted_browser_has_its_own_limit(world, frozen):
    mine = browser()
    login(mine, "staff", PASSWORD)
    mine.post("/accounts/logout/")
    for i in range(settings.SIGNIN_DEVICE_LIMIT):
        assert login(mine, "staff", f"guess-{i}").status_code == 200
    # Failures on a trusted browser are not the account's failures ...
    assert login(browser(), "staff", PASSWORD).status_code == 302
    # ... but the browser itself is now treated like any other until its window passes.
    attack("staff", settings.SIGNIN_ACCOUNT_FREE)
    assert login(mine, "staff", PASSWORD).status_code == 429


def test_a_password_change_ends_the_trust_of_old_browsers(world, frozen):
    from fangkong.accounts import services

    mine = browser()
    login(mine, "staff", PASSWORD)
    mine.post("/accounts/logout/")
    staff = world.users["staff"]
    services.user_set_password(actor=staff, user=staff, password="Nouveau-Passw0rd!")
    attack("staff", settings.SIGNIN_ACCOUNT_FREE)
    assert login(mine, "staff", "Nouveau-Passw0rd!").status_code == 429


def test_a_locked_out_user_unlocks_with_an_sms_code_from_behind_the_attackers_nat(
    world, frozen, http_receiver
):
    attack("staff", 40, addresses=(OFFICE,))
    c = browser()  # a new browser in the same office as the attacker
    r = login(c, "staff", PASSWORD)
    assert r.status_code == 429
    assert 'formaction="/accounts/unlock/"' in r.content.decode()
    r = c.post("/accounts/unlock/", {"username": "staff", "password": ""})
    assert r.status_code == 200
    from fangkong.accounts.views import MSG_UNLOCK_SENT

    shown = [str(m) for m in r.context["messages"]]
    assert MSG_UNLOCK_SENT.format(minutes=settings.SIGNIN_UNLOCK_MINUTES) in shown
    assert 'name="unlock_code"' in r.content.decode()
    code = sms_code(http_receiver)
    assert http_receiver.requests[-1]["json"]["mobile"] == world.people["staff"].mobile
    assert login(c, "staff", "wrong", unlock_code=code).status_code == 200  # still the password
    r = login(c, "staff", PASSWORD, unlock_code=code)
    assert r.status_code == 302
    # Single use: after another attack the same code does not let this browser past again.
    c.post("/accounts/logout/")
    c.cookies.pop(throttle.DEVICE_COOKIE)
    attack("staff", 10, addresses=(OFFICE,))
    r = login(c, "staff", PASSWORD, unlock_code=code)
    assert r.status_code == 429
    assert error_of(r) == throttle.ERR_UNLOCK_CODE_WRONG
    # The code is in no log: not in the audit trail, and not in the outbox once sent.
    assert not AuditEvent.objects.filter(new__icontains=code).exists()
    assert not AuditEvent.objects.filter(detail__contains=code).exists()
    assert Message.objects.get(kind="account.unlock").body == ""
    assert AccessCode.objects.get(purpose="unlock").code_hash != code


def test_an_unlock_code_works_only_in_the_browser_that_asked_for_it(world, frozen, http_receiver):
    attack("staff", 10)
    mine, theirs = browser(), browser("203.0.113.7")
    mine.post("/accounts/unlock/", {"username": "staff"})
    code = sms_code(http_receiver)
    # The attacker asks for a code of their own and guesses; they cannot burn the user's.
    theirs.post("/accounts/unlock/", {"username": "staff"})
    for guess in ["000000", "111111", "222222", "333333", "444444", "555555", code]:
        assert login(theirs, "staff", PASSWORD, unlock_code=guess).status_code == 429
    r = login(theirs, "staff", PASSWORD, unlock_code="000000")
    assert error_of(r) == throttle.ERR_UNLOCK_CODE_WRONG
    assert login(mine, "staff", PASSWORD, unlock_code=code).status_code == 302


def test_wrong_codes_use_up_a_code(world, frozen, http_receiver):
    attack("staff", 10)
    c = browser()
    c.post("/accounts/unlock/", {"username": "staff"})
    code = sms_code(http_receiver)
    for _ in range(settings.SIGNIN_UNLOCK_TRIES):
        assert login(c, "staff", PASSWORD, unlock_code="999999").status_code == 429
    assert login(c, "staff", PASSWORD, unlock_code=code).status_code == 429
    frozen.advance(timedelta(seconds=settings.SIGNIN_UNLOCK_INTERVAL_SECONDS))
    c.post("/accounts/unlock/", {"username": "staff"})
    assert login(c, "staff", PASSWORD, unlock_code=sms_code(http_receiver)).status_code == 302


def test_codes_expire_and_are_rationed(world, frozen, http_receiver):
    attack("staff", 10)
    c = browser()
    c.post("/accounts/unlock/", {"username": "staff"})
    c.post("/accounts/unlock/", {"username": "staff"})  # too soon: nothing more is sent
    c.post("/accounts/unlock/", {"username": "nobody"})  # unknown: the same answer, no SMS
    deliver_due()
    assert len(http_receiver.requests) == 1
    code = re.search(r"(\d{6})", http_receiver.requests[0]["json"]["content"])[1]
    frozen.advance(timedelta(minutes=settings.SIGNIN_UNLOCK_MINUTES))
    attack("staff", 2)  # the account is still under attack
    assert login(c, "staff", PASSWORD, unlock_code=code).status_code == 429


def test_the_unlock_answer_does_not_tell_who_exists(world, frozen, http_receiver):
    known = browser().post("/accounts/unlock/", {"username": "staff"})
    unknown = browser("10.2.2.2").post("/accounts/unlock/", {"username": "nobody"})

    def strip(response):
        return re.sub(
            r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"', "", response.content.decode()
        )

    assert strip(known).replace("staff", "X") == strip(unknown).replace("nobody", "X")


def test_the_admin_login_is_under_the_same_rules(world, frozen):
    attack("admin", settings.SIGNIN_ACCOUNT_FREE)
    r = browser().post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert r.status_code == 200 and not r.wsgi_request.user.is_authenticated


def test_old_failures_and_codes_are_purged(world, frozen, http_receiver):
    attack("staff", 3)
    browser().post("/accounts/unlock/", {"username": "staff"})
    frozen.advance(timedelta(days=3))
    attack("staff", 1)
    assert throttle.purge() == 4  # three failures and the code request
    assert ThrottleEvent.objects.count() == 1
    assert not AccessCode.objects.exists()


# --- People who left. ---


def test_a_person_loses_access_on_their_left_date_and_regains_it_when_reinstated(world, frozen):
    from fangkong.accounts import services
    from fangkong.accounts.selectors import ERR_LEFT
    from fangkong.org.services import person_update

    staff, admin = world.people["staff"], world.users["admin"]
    _, raw = services.token_create(actor=world.users["staff"], user=world.users["staff"], name="t")
    token = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    session = browser()
    assert login(session, "staff", PASSWORD).status_code == 302
    person_update(actor=admin, person=staff, left_on=T0.date() + timedelta(days=1))
    assert session.get("/").status_code == 200  # still in post today
    frozen.advance(timedelta(days=1))  # the left date: no new sign-in, no session, no token
    assert session.get("/").status_code == 302
    r = login(browser(), "staff", PASSWORD)
    assert r.status_code == 403
    assert error_of(r) == ERR_LEFT.format(day="2020-02-04")
    assert Client().get("/api/v1/me", **token).status_code == 401
    person_update(actor=admin, person=staff, left_on=None)  # reinstated
    assert login(browser(), "staff", PASSWORD).status_code == 302
    assert Client().get("/api/v1/me", **token).status_code == 200


def test_a_wrong_password_for_a_leaver_says_nothing_about_leaving(world, frozen):
    from fangkong.org.services import person_update

    person_update(actor=world.users["admin"], person=world.people["staff"], left_on=T0.date())
    r = login(browser(), "staff", "wrong-password")
    assert r.status_code == 200
    assert "离职" not in error_of(r)
