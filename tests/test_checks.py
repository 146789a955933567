"""System checks of settings from the environment: a bad value is reported with what to do,
never a crash at import (fangkong/checks.py)."""

import os
import subprocess
import sys

from fangkong import checks
from fangkong.lib import env
from tests.source import ROOT


def ids(found) -> list[str]:
    return [c.id for c in found]


def test_a_malformed_environment_is_reported_by_check_not_a_crash():
    """Before: FANGKONG_WEBHOOKS with a typo stopped every command with a JSON traceback."""
    environ = os.environ | {
        "FANGKONG_WEBHOOKS": '{"hg-ding": {"url": "https://oapi.dingtalk.com/robot/send"',
        "EMAIL_PORT": "twenty-five",
        "DEBUG": "maybe",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "(fangkong.E001) FANGKONG_WEBHOOKS 不是合法的 JSON" in done.stderr
    bad_port = env.ERR_NOT_INT.format(name="EMAIL_PORT", value="twenty-five", default=25)
    assert f"(fangkong.E001) {bad_port}" in done.stderr
    assert env.ERR_NOT_BOOL.format(name="DEBUG", value="maybe", default=False) in done.stderr


def test_env_readers_keep_the_default_and_the_problem(monkeypatch):
    monkeypatch.setattr(env, "_problems", [])
    monkeypatch.setenv("FK_N", "12")
    monkeypatch.setenv("FK_BAD_N", "1O")
    monkeypatch.setenv("FK_B", "Yes")
    monkeypatch.setenv("FK_BAD_B", "ture")
    monkeypatch.setenv("FK_J", '{"a": [1]}')
    monkeypatch.setenv("FK_BAD_J", "{'a': 1}")
    assert env.envint("FK_N", 3) == 12 and env.envint("FK_BAD_N", 3) == 3
    assert env.envbool("FK_B", False) is True and env.envbool("FK_BAD_B", False) is False
    assert env.envjson("FK_J", {}) == {"a": [1]} and env.envjson("FK_BAD_J", {}) == {}
    assert env.envint("FK_UNSET", 7) == 7 and env.envjson("FK_UNSET", {}) == {}
    problems = env.problems()
    assert problems[:2] == [
        env.ERR_NOT_INT.format(name="FK_BAD_N", value="1O", default=3),
        env.ERR_NOT_BOOL.format(name="FK_BAD_B", value="ture", default=False),
    ]
    assert len(problems) == 3 and problems[2].startswith("FK_BAD_J 不是合法的 JSON")


def test_the_default_settings_pass(settings):
    for check in (
        checks.environment_values,
        checks.outbound_channels,
        checks.platform_sign_in,
        checks.account_rules,
    ):
        assert check(None) == []


def test_robots_and_the_sms_gateway(settings):
    settings.FANGKONG_WEBHOOKS = ["https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1"]
    assert [c.msg for c in checks.outbound_channels(None)] == [checks.ERR_WEBHOOKS_SHAPE]
    settings.FANGKONG_WEBHOOKS = {
        "ok": {"url": "https://oapi.dingtalk.com/robot/send?access_token=1", "secret": "SEC1"},
        "no-url": {"secret": "SEC1"},
        "ftp": {"url": "ftp://example.org/"},
        "mentions": {"url": "https://example.org/", "mentions": "13800000000"},
        "plain": "https://example.org/",
    }
    assert [c.msg for c in checks.outbound_channels(None)] == [
        checks.ERR_WEBHOOK_ROBOT.format(name=n) for n in ("no-url", "ftp", "mentions", "plain")
    ]
    settings.FANGKONG_WEBHOOKS = {}
    settings.SMS_GATEWAY_URL = "https://sms.example.org/send"
    settings.SMS_GATEWAY_TOKEN = ""
    found = checks.outbound_channels(None)
    assert ids(found) == ["fangkong.W001"] and found[0].msg == checks.WARN_SMS_TOKEN
    settings.SMS_GATEWAY_TOKEN = "t"
    assert checks.outbound_channels(None) == []
    settings.SMS_GATEWAY_URL = "sms.example.org/send"
    assert [c.msg for c in checks.outbound_channels(None)] == [
        checks.ERR_SMS_URL.format(url="sms.example.org/send")
    ]


def test_platform_sign_in_set_up_half_way(settings):
    settings.SSO_ENVIRONMENT = {
        "SSO_WECOM_CORP_ID": "ww1",
        "SSO_WECOM_SECRET": "s",
        "SSO_WECOM_MODE": "web",
        "SSO_OIDC_SECRET": "s",
        "SSO_DINGTALK_CLIENT_ID": "d",
        "SSO_DINGTALK_CLIENT_SECRET": "s",
    }
    assert [c.msg for c in checks.platform_sign_in(None)] == [
        checks.ERR_SSO_HALF_SET.format(
            platform="企业微信",
            given="SSO_WECOM_CORP_ID、SSO_WECOM_SECRET",
            missing="SSO_WECOM_AGENT_ID",
        ),
        checks.ERR_SSO_HALF_SET.format(
            platform="统一身份认证（OpenID Connect）",
            given="SSO_OIDC_SECRET",
            missing="SSO_OIDC_SERVER_URL、SSO_OIDC_CLIENT_ID",
        ),
        checks.ERR_SSO_WECOM_MODE.format(mode="web"),
    ]


def test_the_username_rule(settings):
    settings.ACCOUNT_USERNAME_RULE = "email"
    assert [c.msg for c in checks.account_rules(None)] == [
        checks.ERR_USERNAME_RULE.format(rule="email")
    ]
