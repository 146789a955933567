"""Sign-in, lock-out, passwords, sessions, CSRF and personal API tokens."""

import pytest
from django.conf import settings
from django.test import Client

from fangkong.accounts import services
from fangkong.accounts.validators import ERR_CLASSES
from fangkong.audit.models import AuditEvent
from tests.world import PASSWORD


def login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_login_with_the_right_password(world, client):
    r = login(client, "staff", PASSWORD)
    assert r.status_code == 302 and r["Location"] == "/"
    assert "张伟" in client.get("/").content.decode()


def test_wrong_password_says_so_in_chinese(world, client):
    r = login(client, "staff", "wrong-password")
    assert r.status_code == 200
    assert "请输入一个正确的" in r.content.decode()


def test_session_expires_and_cookies_are_http_only():
    assert settings.SESSION_COOKIE_AGE <= 8 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_COOKIE_HTTPONLY


def test_csrf_is_enforced(world):
    c = Client(enforce_csrf_checks=True)
    c.force_login(world.users["staff"])
    r = c.post("/accounts/tokens/", {"name": "x"})
    assert r.status_code == 403


@pytest.mark.parametrize(
    "weak", ["short1A!", "alllowercaseletters", "1234567890123", "Password123"]
)
def test_weak_passwords_are_refused(world, client_for, weak):
    c = client_for("staff")
    r = c.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": weak,
            "new_password2": weak,
        },
    )
    assert r.status_code == 200
    assert (
        world.users["staff"]
        .__class__.objects.get(pk=world.users["staff"].pk)
        .check_password(PASSWORD)
    )


def test_character_class_rule_message(world, client_for):
    r = client_for("staff").post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "abcdefghijkl",
            "new_password2": "abcdefghijkl",
        },
    )
    assert ERR_CLASSES in r.content.decode()


def test_admin_reset_forces_a_change_at_next_login(world, client_for):
    r = client_for("admin").post(f"/accounts/users/{world.users['staff'].pk}/reset-password/")
    temporary = r.context["temporary"]
    c = Client()
    assert login(c, "staff", temporary).status_code == 302
    assert c.get("/").url == "/accounts/password/"  # every page sends them to change it
    new = "Nouveau-Passw0rd!"
    r = c.post(
        "/accounts/password/",
        {"old_password": temporary, "new_password1": new, "new_password2": new},
    )
    assert r.status_code == 302
    assert c.get("/").status_code == 200
    actions = list(
        AuditEvent.objects.filter(object_id=str(world.users["staff"].pk)).values_list(
            "action", flat=True
        )
    )
    assert "user.password_reset" in actions and "user.password_change" in actions


def test_token_is_hashed_scoped_and_revocable(world, client):
    token, raw = services.token_create(
        actor=world.users["city_coord"], user=world.users["city_coord"], name="daily script"
    )
    assert raw not in token.key_hash and len(token.key_hash) == 64
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get("/api/v1/units/HG-HZ", **auth).status_code == 200
    assert client.get("/api/v1/units/XG", **auth).status_code == 404  # scoped like its owner
    services.token_revoke(actor=world.users["city_coord"], token=token)
    assert client.get("/api/v1/units/HG-HZ", **auth).status_code == 401
    assert (
        client.get("/api/v1/units/HG-HZ", HTTP_AUTHORIZATION="Bearer fk_nonsense").status_code
        == 401
    )


def test_token_page_shows_the_token_once(world, client_for):
    c = client_for("staff")
    r = c.post("/accounts/tokens/", {"name": "脚本"})
    raw = r.context["raw"]
    assert raw.startswith("fk_") and raw in r.content.decode()
    assert raw not in c.get("/accounts/tokens/").content.decode()


def test_inactive_user_token_is_refused(world, client):
    _, raw = services.token_create(actor=world.users["staff"], user=world.users["staff"], name="t")
    world.users["staff"].is_active = False
    world.users["staff"].save()
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_api_writes_need_csrf_with_a_session_but_not_with_a_token(world):
    body = {"attested": True, "subjects": [{"temperature": 36.5, "work_mode": "on_site"}]}
    c = Client(enforce_csrf_checks=True)
    c.force_login(world.users["staff"])
    assert c.post("/api/v1/checkins", body, content_type="application/json").status_code == 403
    _, raw = services.token_create(actor=world.users["staff"], user=world.users["staff"], name="t")
    r = Client(enforce_csrf_checks=True).post(
        "/api/v1/checkins",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert r.status_code == 200
    bad = Client(enforce_csrf_checks=True).post(
        "/api/v1/checkins",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer fk_wrong",
    )
    assert bad.status_code == 401


def change_password(client, old, new):
    return client.post(
        "/accounts/password/", {"old_password": old, "new_password1": new, "new_password2": new}
    )


def test_changing_ones_password_revokes_ones_tokens(world, client):
    """A token made with a password that may have leaked must not outlive the change."""
    staff = world.users["staff"]
    _, raw = services.token_create(actor=staff, user=staff, name="script")
    _, other = services.token_create(
        actor=world.users["city_coord"], user=world.users["city_coord"], name="script"
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get("/api/v1/me", **auth).status_code == 200
    c = Client()
    c.force_login(staff)
    r = change_password(c, PASSWORD, "Nouveau-Passw0rd!")
    assert r.status_code == 302
    assert client.get("/api/v1/me", **auth).status_code == 401
    # Someone else's token is untouched.
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 200
    event = AuditEvent.objects.filter(action="user.password_change").get()
    assert event.new == {"tokens_revoked": 1}
    from fangkong.accounts.views import MSG_TOKENS_REVOKED

    shown = [str(m) for m in c.get("/").context["messages"]]
    assert MSG_TOKENS_REVOKED.format(n=1) in shown


def test_a_token_is_narrowed_the_moment_its_owner_loses_a_role(world, client):
    from fangkong.org import services as org_services
    from fangkong.org.models import RoleAssignment

    coord = world.users["city_coord"]
    _, raw = services.token_create(actor=coord, user=coord, name="daily script")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get("/api/v1/units/HG-HZ", **auth).status_code == 200
    org_services.role_revoke(
        actor=world.users["admin"], assignment=RoleAssignment.objects.get(user=coord)
    )
    assert client.get("/api/v1/units/HG-HZ", **auth).status_code == 404
    assert client.get("/api/v1/me", **auth).json()["grants"] == []
