"""Sign-in through WeCom, DingTalk and OpenID Connect: the full redirect flow against a local server.

The platforms are outside this machine, so tests/platforms.py answers as each one documents; the
test client follows every redirect: our login button → the platform's authorize page (fetched
over HTTP like a browser would) → our callback → confirmation → signed in.
"""

import json
import logging
import urllib.parse
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.test import Client

from fangkong.accounts.models import User
from fangkong.audit.models import AuditEvent
from fangkong.lib.masking import mask_mobile
from fangkong.org import services as org_services
from fangkong.sso import services
from tests.platforms import SECRETS

SH = ZoneInfo("Asia/Shanghai")
WECOM, DINGTALK, OIDC = "/sso/wecom/login/", "/sso/dingtalk/login/", "/sso/oidc/gov-idp/login/"


def go(client: Client, platforms, login_url: str, who: str, **params):
    """Press the platform's button, pass its authorize page as `who`, land on our callback."""
    platforms.who = who
    r = client.get(login_url, params)  # the buttons are links (see SOCIALACCOUNT_LOGIN_ON_GET)
    assert r.status_code == 302, r.content
    authorize = r["Location"]
    assert authorize.startswith(platforms.url), authorize
    page = requests.get(authorize, allow_redirects=False, timeout=5)
    assert page.status_code == 302, page.text
    back = urllib.parse.urlsplit(page.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def signed_in_as(client: Client):
    r = client.get("/")
    return r.wsgi_request.user if r.status_code == 200 else None


@pytest.fixture
def staff_on_wecom(world, platforms):
    """张伟 (staff) in WeCom with the mobile the roster has for him."""
    staff = world.people["staff"]
    platforms.add("zhangwei", "张伟", staff.mobile)
    return staff


def test_first_wecom_sign_in_confirms_once_then_signs_in_directly(world, platforms, staff_on_wecom):
    c = Client()
    r = go(c, platforms, WECOM, "zhangwei")
    assert r.status_code == 302 and r["Location"] == "/sso/confirm/"
    page = c.get("/sso/confirm/")
    body = page.content.decode()
    assert "首次使用企业微信登录" in body and "综合科" in body
    assert mask_mobile(staff_on_wecom.mobile) in body and staff_on_wecom.mobile not in body
    assert signed_in_as(c) is None  # nothing happens before the person confirms
    r = c.post("/sso/confirm/", {"action": "confirm"})
    assert r.status_code == 302 and r["Location"] == "/"
    assert signed_in_as(c) == world.users["staff"]
    account = SocialAccount.objects.get(provider="wecom", uid="zhangwei")
    assert account.user == world.users["staff"]
    assert account.extra_data == {
        "name": "张伟",
        "mobile_masked": mask_mobile(staff_on_wecom.mobile),
    }
    # The next time: straight in, no confirmation; the organisation token was cached.
    c2 = Client()
    r = go(c2, platforms, WECOM, "zhangwei")
    assert r.status_code == 302 and r["Location"] == "/"
    assert signed_in_as(c2) == world.users["staff"]
    assert platforms.paths().count("/cgi-bin/gettoken") == 1
    actions = list(
        AuditEvent.objects.filter(action__startswith="sso.").values_list("action", flat=True)
    )
    assert sorted(actions) == ["sso.bind", "sso.sign_in", "sso.sign_in"]
    assert not SocialToken.objects.exists()


def test_wecom_mobile_from_getuserdetail_when_user_get_has_none(world, platforms, staff_on_wecom):
    platforms.wecom_user_get_has_mobile = False
    c = Client()
    r = go(c, platforms, WECOM, "zhangwei")
    assert r["Location"] == "/sso/confirm/"
    assert "/cgi-bin/auth/getuserdetail" in platforms.paths()


def test_wecom_qr_mode_for_desktop_browsers(world, platforms, staff_on_wecom, settings):
    app = settings.SOCIALACCOUNT_PROVIDERS["wecom"]["APPS"][0]
    app["settings"] |= {"mode": "qr", "authorize_url": f"{platforms.url}/wwlogin/sso/login"}
    r = go(Client(), platforms, WECOM, "zhangwei")
    assert r["Location"] == "/sso/confirm/"
    login = next(r for r in platforms.requests if r["path"] == "/wwlogin/sso/login")
    assert login["query"]["login_type"] == "CorpApp" and login["query"]["agentid"] == "1000002"


def test_an_expired_wecom_token_is_renewed_once(world, platforms, staff_on_wecom):
    c = Client()
    go(c, platforms, WECOM, "zhangwei")
    c.post("/sso/confirm/", {"action": "confirm"})
    platforms.expire_corp_tokens()  # two hours later
    c2 = Client()
    r = go(c2, platforms, WECOM, "zhangwei")
    assert r["Location"] == "/"
    assert platforms.paths().count("/cgi-bin/gettoken") == 2


def test_a_reused_code_is_refused_by_wecom_and_explained(world, platforms, staff_on_wecom):
    c = Client()
    platforms.who = "zhangwei"
    authorize = c.get(WECOM)["Location"]
    back = urllib.parse.urlsplit(
        requests.get(authorize, allow_redirects=False, timeout=5).headers["Location"]
    )
    first = c.get(f"{back.path}?{back.query}")
    assert first.status_code == 302
    # Replaying the callback: allauth's state is spent; a fresh state with the old code fails
    # at WeCom (40029 invalid code).
    replay = c.get(f"{back.path}?{back.query}")
    assert replay.status_code == 401
    authorize = c.get(WECOM)["Location"]
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(authorize).query)["state"][0]
    code = urllib.parse.parse_qs(back.query)["code"][0]
    r = c.get(f"{back.path}?code={code}&state={state}")
    assert r.status_code == 401
    body = r.content.decode()
    assert "企业微信登录未完成" in body and "40029" in body
    assert signed_in_as(c) is None


def test_a_wrong_secret_answers_40001_and_the_page_says_to_tell_the_administrator(
    world, platforms, staff_on_wecom, settings
):
    settings.SOCIALACCOUNT_PROVIDERS["wecom"]["APPS"][0]["secret"] = "wrong"
    r = go(Client(), platforms, WECOM, "zhangwei")
    assert r.status_code == 401
    assert "企业微信返回的错误码：40001（请告知系统管理员）" in r.content.decode()


def test_an_unreachable_platform_is_an_error_page_not_a_crash(
    world, platforms, staff_on_wecom, settings
):
    from tests.receivers import free_port

    app = settings.SOCIALACCOUNT_PROVIDERS["wecom"]["APPS"][0]
    app["settings"]["api_url"] = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    r = go(Client(), platforms, WECOM, "zhangwei")
    assert r.status_code == 401 and "企业微信登录未完成" in r.content.decode()


def test_a_wechat_user_outside_the_organisation_is_refused(world, platforms):
    platforms.add("outside", "路人", "13900000000", member=False)
    r = go(Client(), platforms, WECOM, "outside")
    assert r.status_code == 401
    assert "不是本单位通讯录中的成员" in r.content.decode()


def test_unknown_mobile_is_refused_and_no_account_is_ever_created(world, platforms):
    platforms.add("stranger", "陌生人", "13912345678")
    users = User.objects.count()
    r = go(Client(), platforms, WECOM, "stranger")
    assert r.status_code == 403
    expected = services.ERR_UNKNOWN.format(mobile=mask_mobile("13912345678"))
    assert expected in r.content.decode()
    assert User.objects.count() == users
    assert not SocialAccount.objects.exists()
    event = AuditEvent.objects.get(action="sso.refused")
    assert event.new["reason"] == "unknown" and event.new["mobile_masked"] == "139****5678"


def test_a_mobile_shared_by_two_people_is_refused_and_named_for_the_administrator(
    world, platforms, client_for
):
    staff = world.people["staff"]
    org_services.person_update(
        actor=world.users["admin"], person=world.people["mc_clerk"], mobile=staff.mobile
    )
    platforms.add("zhangwei", "张伟", staff.mobile)
    r = go(Client(), platforms, WECOM, "zhangwei")
    assert r.status_code == 403
    assert services.ERR_AMBIGUOUS.format(mobile=mask_mobile(staff.mobile)) in r.content.decode()
    event = AuditEvent.objects.get(action="sso.refused")
    assert {p["name"] for p in event.new["people"]} == {"张伟", "周杰"}
    page = client_for("admin").get("/sso/adoption/?node=HG").content.decode()
    assert 'id="duplicate-mobiles"' in page and "张伟" in page and "周杰" in page
    assert 'id="sso-refusals"' in page and "手机号码重复" in page
    # A coordinator sees the duplicate in their subtree but not the audit trail's refusals.
    coord = client_for("city_coord").get("/sso/adoption/?node=HG").content.decode()
    assert 'id="duplicate-mobiles"' in coord and 'id="sso-refusals"' not in coord


def test_a_person_without_an_account_is_told_to_activate_first(world, platforms):
    clerk = world.people["mc_clerk"]  # on the roster, no login
    platforms.add("zhoujie", "周杰", clerk.mobile)
    r = go(Client(), platforms, WECOM, "zhoujie")
    assert r.status_code == 403
    assert services.ERR_NO_ACCOUNT.format(name="周杰", platform="企业微信") in r.content.decode()
    assert not SocialAccount.objects.exists()


def test_people_who_left_or_were_disabled_are_refused(world, platforms, staff_on_wecom, clock):
    user = world.users["county_liaison"]
    platforms.add("chenxd", "陈晓东", world.people["county_liaison"].mobile)
    user.is_active = False
    user.save(update_fields=["is_active"])
    r = go(Client(), platforms, WECOM, "chenxd")
    assert services.ERR_INACTIVE in r.content.decode()
    # Bound first, then left: the binding no longer signs in.
    c = Client()
    go(c, platforms, WECOM, "zhangwei")
    c.post("/sso/confirm/", {"action": "confirm"})
    org_services.person_update(
        actor=world.users["admin"], person=staff_on_wecom, left_on=date.today()
    )
    r = go(Client(), platforms, WECOM, "zhangwei")
    assert r.status_code == 403 and services.ERR_INACTIVE in r.content.decode()


def test_not_me_binds_nothing_and_a_stale_confirmation_is_refused(
    world, platforms, staff_on_wecom, settings
):
    c = Client()
    go(c, platforms, WECOM, "zhangwei")
    r = c.post("/sso/confirm/", {"action": "decline"})
    assert "已取消，未绑定任何账号" in r.content.decode()
    assert not SocialAccount.objects.exists() and signed_in_as(c) is None
    settings.SSO_CONFIRM_SECONDS = -1
    go(c, platforms, WECOM, "zhangwei")
    r = c.post("/sso/confirm/", {"action": "confirm"})
    assert r.status_code == 403 and services.ERR_CONFIRM_EXPIRED in r.content.decode()
    assert not SocialAccount.objects.exists()
    assert Client().get("/sso/confirm/").status_code == 403


def test_connect_cannot_be_smuggled_in(world, platforms, staff_on_wecom, client_for):
    """A signed-in user asking for process=connect still goes through matching and confirmation."""
    c = client_for("leader")
    r = go(c, platforms, WECOM, "zhangwei", process="connect")
    assert r["Location"] == "/sso/confirm/"
    assert not SocialAccount.objects.exists()


def test_next_is_kept_through_the_confirmation(world, platforms, staff_on_wecom):
    c = Client()
    go(c, platforms, WECOM, "zhangwei", next="/health/checkin/")
    r = c.post("/sso/confirm/", {"action": "confirm"})
    assert r["Location"] == "/health/checkin/"


def test_dingtalk_full_flow_and_its_error_answers(world, platforms):
    leader = world.people["leader"]
    platforms.add("ding-liu", "刘志强", leader.mobile)
    c = Client()
    r = go(c, platforms, DINGTALK, "ding-liu")
    assert r["Location"] == "/sso/confirm/"
    assert "首次使用钉钉登录" in c.get("/sso/confirm/").content.decode()
    c.post("/sso/confirm/", {"action": "confirm"})
    assert signed_in_as(c) == world.users["leader"]
    assert SocialAccount.objects.get(provider="dingtalk").uid == "ding-liu"
    # The token call refuses a code it did not issue (HTTP 400): the error page, not a 500.
    c2 = Client()
    authorize = c2.get(DINGTALK)["Location"]
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(authorize).query)["state"][0]
    r = c2.get(f"/sso/dingtalk/login/callback/?authCode=forged&state={state}")
    assert r.status_code == 401 and "钉钉登录未完成" in r.content.decode()
    # users/me refuses the token (HTTP 401, as for an expired one): the error page again.
    platforms.reject_member_tokens = True
    c3 = Client()
    r = go(c3, platforms, DINGTALK, "ding-liu")
    assert r.status_code == 401 and "钉钉登录未完成" in r.content.decode()
    assert signed_in_as(c3) is None


def test_openid_connect_full_flow_and_unverified_phone(world, platforms):
    liaison = world.people["county_liaison"]
    platforms.add("sub-chen", "陈晓东", liaison.mobile)
    c = Client()
    r = go(c, platforms, OIDC, "sub-chen")
    assert r["Location"] == "/sso/confirm/"
    assert "首次使用政务统一身份认证登录" in c.get("/sso/confirm/").content.decode()
    c.post("/sso/confirm/", {"action": "confirm"})
    assert signed_in_as(c) == world.users["county_liaison"]
    assert SocialAccount.objects.get(provider="gov-idp").uid == "sub-chen"
    token = next(r for r in platforms.requests if r["path"] == "/oidc/token")
    assert (
        "phone"
        in next(r for r in platforms.requests if r["path"] == "/oidc/authorize")["query"][
            "scope"
        ].split()
    )
    assert token["method"] == "POST"
    leader = world.people["leader"]
    platforms.add("sub-liu", "刘志强", leader.mobile, phone_verified=False)
    r = go(Client(), platforms, OIDC, "sub-liu")
    assert r.status_code == 403
    assert services.ERR_UNVERIFIED_MOBILE.format(platform="政务统一身份认证") in r.content.decode()


def test_openid_connect_invalid_grant_is_an_error_page(world, platforms):
    c = Client()
    authorize = c.get(OIDC)["Location"]
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(authorize).query)["state"][0]
    r = c.get(f"/sso/oidc/gov-idp/login/callback/?code=forged&state={state}")
    assert r.status_code == 401 and "政务统一身份认证登录未完成" in r.content.decode()
    r = c.get(f"/sso/oidc/gov-idp/login/callback/?error=access_denied&state={state}")
    assert r.status_code == 401


def test_no_secret_code_or_token_reaches_the_logs_or_the_audit_trail(
    world, platforms, staff_on_wecom, caplog
):
    caplog.set_level(logging.DEBUG)
    for login_url, uid in [(WECOM, "zhangwei"), (DINGTALK, "ding-z"), (OIDC, "oidc-z")]:
        platforms.add(uid, "张伟", staff_on_wecom.mobile)
        c = Client()
        go(c, platforms, login_url, uid)
        c.post("/sso/confirm/", {"action": "confirm"})
    platforms.expire_corp_tokens()
    go(Client(), platforms, WECOM, "zhangwei")  # renews the organisation token
    platforms.add("nobody-known", "某人", "13900001111")
    go(Client(), platforms, WECOM, "nobody-known")  # refused, and audited
    platforms.reject_member_tokens = True
    go(Client(), platforms, OIDC, "oidc-z")  # an error page, and a warning in the log
    assert SocialAccount.objects.count() == 3
    trail = json.dumps(
        list(AuditEvent.objects.values("old", "new", "detail", "object_repr")), ensure_ascii=False
    )
    extras = json.dumps(list(SocialAccount.objects.values_list("extra_data", flat=True)))
    logs = caplog.text
    # The run did log (DEBUG on, an error and a refusal): the check below is not vacuous.
    assert "platform sign-in failed" in logs and "WeCom token refused" in logs
    for secret in [*SECRETS, *platforms.issued]:
        assert secret not in logs, secret
        assert secret not in trail, secret
        assert secret not in extras, secret
    assert staff_on_wecom.mobile not in trail and staff_on_wecom.mobile not in extras


def test_the_login_page_offers_the_configured_platforms(world, platforms, client, settings):
    page = client.get("/accounts/login/").content.decode()
    for label in ("企业微信登录", "钉钉登录", "政务统一身份认证登录"):
        assert label in page
    # Links, not forms: a CSP form-action 'self' would stop a POST redirected to the platform.
    assert 'href="/sso/wecom/login/"' in page
    with_next = client.get("/accounts/login/?next=/health/checkin/").content.decode()
    assert 'href="/sso/wecom/login/?next=/health/checkin/"' in with_next
    settings.SOCIALACCOUNT_PROVIDERS = {}
    assert 'id="sso-buttons"' not in client.get("/accounts/login/").content.decode()


def test_adoption_counts_per_unit(world, platforms, staff_on_wecom, client_for, clock):
    clock.freeze(datetime(2020, 2, 5, 9, 0, tzinfo=SH))  # a Wednesday
    c = Client()
    go(c, platforms, WECOM, "zhangwei")
    c.post("/sso/confirm/", {"action": "confirm"})
    # Django stamps last_login with the real time; pin it to the frozen week.
    User.objects.filter(pk=world.users["staff"].pk).update(
        last_login=datetime(2020, 2, 5, 9, 0, tzinfo=SH)
    )
    leader = world.users["leader"]
    leader.last_login = datetime(2020, 1, 20, tzinfo=SH)  # an earlier week
    leader.set_unusable_password()
    leader.save()
    from fangkong.sso import selectors

    page = selectors.adoption(world.units["HG"])
    rows = {a.unit.code: a for a in page.children}
    hz, mc = rows["HG-HZ"], rows["HG-MC"]
    # 黄州: 陈晓东 (password, never signed in), 刘志强 (no usable password, signed in long ago),
    # 张伟 (WeCom bound, signed in this week).
    assert (hz.staff, hz.accounts, hz.activated, hz.this_week, hz.never, hz.bound) == (
        3,
        3,
        2,
        1,
        1,
        1,
    )
    # 麻城: 周杰 has no account.
    assert (mc.staff, mc.accounts, mc.activated, mc.never) == (1, 0, 0, 1)
    assert page.own.staff == 1  # 李红梅 at the city bureau itself
    assert page.total.staff == 5
    r = client_for("city_coord").get("/sso/adoption/?node=HG")
    assert r.status_code == 200
    assert 'data-unit="HG-HZ"' in r.content.decode()
    clock.freeze(datetime(2020, 2, 10, 9, 0, tzinfo=SH))  # next Monday: a new week
    assert {a.unit.code: a for a in selectors.adoption(world.units["HG"]).children}[
        "HG-HZ"
    ].this_week == 0
