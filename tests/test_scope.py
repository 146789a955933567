"""Persona tests: every URL and API endpoint, tried against other units' objects.

`PAGE_CASES` and `API_CASES` must cover every pattern in the URL conf and every operation in
the OpenAPI schema; `test_every_url_has_a_scope_case` and `test_every_api_operation_has_a_scope_case`
fail when a new endpoint arrives without one.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from fangkong.api import api
from tests.world import World

# URL names that need no scope test, and why.
EXEMPT = {
    "accounts:login": "public sign-in form",
    "accounts:logout": "ends the caller's own session",
    "accounts:unlock": "public: sends a sign-in code to the typed account's own mobile (tests/test_signin.py)",
    "accounts:activate": "public: first sign-in with an activation code (tests/test_activation.py)",
    "set_language": "stores the caller's own language choice",
    "api:openapi-json": "schema of the API, no data",
    "api:openapi-view": "interactive API docs, no data",
    # Platform sign-in redirects (public, like the sign-in form); the whole flow, refusals and
    # errors included, is in tests/test_sso.py against a local stand-in of each platform.
    "wecom_login": "redirect to WeCom's sign-in page",
    "wecom_callback": "WeCom's redirect back: binds nothing without a confirmation",
    "dingtalk_login": "redirect to DingTalk's sign-in page",
    "dingtalk_callback": "DingTalk's redirect back: binds nothing without a confirmation",
    "openid_connect_login": "redirect to the OpenID Connect provider",
    "openid_connect_callback": "the provider's redirect back: binds nothing without a confirmation",
}
EXEMPT_PREFIXES = {
    "admin:": "Django admin: staff flag only; no persona has it",
    "relief:": "relief-audit pages: covered by tests/test_relief_scope.py (project teams)",
}


@dataclass(frozen=True)
class Case:
    name: str  # URL name, or "METHOD /api/path/template" for API operations
    persona: str
    path: Callable[[World], str]
    status: int
    method: str = "get"
    absent: tuple[str, ...] = ()  # strings that must not appear in the response
    data: dict | None = None  # JSON body for API posts


def u(name, *args, query=""):
    return lambda w: reverse(name, args=[a(w) if callable(a) else a for a in args]) + query


def unit_code(key):
    return lambda w: w.units[key].code


def person_id(key):
    return lambda w: w.people[key].pk


PAGE_CASES = [
    Case("home", p, u("home"), 200)
    for p in ["admin", "prov_coord", "city_coord", "county_liaison", "leader", "staff", "outsider"]
] + [
    Case("accounts:password_change", "staff", u("accounts:password_change"), 200),
    Case("accounts:tokens", "staff", u("accounts:tokens"), 200),
    Case(
        "accounts:token_revoke",
        "city_coord",
        lambda w: reverse("accounts:token_revoke", args=[w.tokens["outsider"].pk]),
        404,
        "post",
    ),
    Case(
        "accounts:token_revoke",
        "outsider",
        lambda w: reverse("accounts:token_revoke", args=[w.tokens["outsider"].pk]),
        302,
        "post",
    ),
    Case("accounts:users", "admin", u("accounts:users"), 200),
    *[
        Case("accounts:users", p, u("accounts:users"), 404)
        for p in ["prov_coord", "city_coord", "county_liaison", "staff", "outsider"]
    ],
    Case(
        "accounts:user_reset",
        "admin",
        lambda w: reverse("accounts:user_reset", args=[w.users["staff"].pk]),
        200,
        "post",
    ),
    *[
        Case(
            "accounts:user_reset",
            p,
            lambda w: reverse("accounts:user_reset", args=[w.users["staff"].pk]),
            404,
            "post",
        )
        for p in ["prov_coord", "city_coord", "county_liaison", "staff", "outsider"]
    ],
    # Accounts of a unit's roster: coordinators of the subtree and administrators.
    *[
        Case("accounts:unit_accounts", p, u("accounts:unit_accounts", unit_code(unit)), status)
        for p, unit, status in [
            ("city_coord", "HG-HZ", 200),
            ("prov_coord", "XG-XN", 200),
            ("admin", "HG-ZHB", 200),
            ("city_coord", "XG-XN", 404),
            ("city_coord", "HB", 404),
            ("outsider", "HG-HZ", 404),
            ("county_liaison", "HG-HZ", 404),
            ("leader", "HG-HZ", 404),
            ("staff", "HG-HZ-ZH", 404),
        ]
    ],
    Case(
        "accounts:unit_accounts",
        "outsider",
        u("accounts:unit_accounts", unit_code("HG-HZ")),
        404,
        "post",
        data={"delivery": "sms"},
    ),
    Case(
        "accounts:unit_accounts",
        "city_coord",
        u("accounts:unit_accounts", unit_code("HG-MC")),
        302,
        "post",
        data={"delivery": "slip"},
    ),
    *[
        Case("accounts:unit_slips", p, u("accounts:unit_slips", unit_code(unit)), status, "post")
        for p, unit, status in [
            ("city_coord", "HG-HZ", 302),  # nothing to print: back to the page with a message
            ("outsider", "HG-HZ", 404),
            ("county_liaison", "HG-HZ", 404),
            ("staff", "HG-HZ-ZH", 404),
        ]
    ],
    *[
        Case("accounts:batch", p, lambda w: reverse("accounts:batch", args=[w.batch.pk]), status)
        for p, status in [
            ("city_coord", 200),
            ("prov_coord", 200),
            ("admin", 200),
            ("outsider", 404),
            ("county_liaison", 404),
            ("staff", 404),
        ]
    ],
    *[
        Case(
            "accounts:batch_progress",
            p,
            lambda w: reverse("accounts:batch_progress", args=[w.batch.pk]),
            status,
        )
        for p, status in [("city_coord", 302), ("outsider", 404), ("staff", 404)]
    ],
    # Roles at a unit: coordinators of the subtree (and administrators) grant most roles, the
    # unit's own liaison names a deputy; nobody else sees the page.
    *[
        Case("accounts:unit_roles", p, u("accounts:unit_roles", unit_code(unit)), status)
        for p, unit, status in [
            ("city_coord", "HG-HZ", 200),
            ("city_coord", "HG", 200),
            ("admin", "HB", 200),
            ("county_liaison", "HG-HZ", 200),
            ("county_liaison", "HG-HZ-ZH", 404),
            ("city_coord", "HB", 404),
            ("city_coord", "XG-XN", 404),
            ("outsider", "HG-HZ", 404),
            ("leader", "HG-HZ", 404),
            ("staff", "HG-HZ-ZH", 404),
        ]
    ],
    *[
        Case(
            "accounts:unit_roles",
            p,
            u("accounts:unit_roles", unit_code("HG-HZ")),
            status,
            "post",
            data=data,
        )
        for p, status, data in [
            ("outsider", 404, {"role": "liaison", "person": "0"}),
            ("county_liaison", 404, {"role": "duty_officer", "person": "0"}),
            ("city_coord", 200, {"role": "liaison", "person": "0"}),  # form error, no change
        ]
    ],
    *[
        Case(
            "accounts:unit_role_revoke",
            p,
            u("accounts:unit_role_revoke", unit_code("HG-HZ")),
            status,
            "post",
            data={"role": "leader", "holder": str(holder)},
        )
        for p, status, holder in [
            ("outsider", 404, 0),
            ("county_liaison", 404, 0),
            ("staff", 404, 0),
            ("city_coord", 404, 0),  # no such holder
        ]
    ],
    Case(
        "accounts:unit_role_revoke",
        "city_coord",
        u("accounts:unit_role_revoke", unit_code("HG-HZ")),
        302,
        "post",
        data={"role": "liaison", "holder": "LIAISON"},
    ),
    Case("org:tree", "city_coord", u("org:tree"), 302),
    Case("org:tree", "admin", u("org:tree"), 200),
    Case("org:tree", "staff", u("org:tree"), 200, absent=("孝感",)),
    # Units: own subtree visible, a sibling city's not.
    Case("org:unit", "prov_coord", u("org:unit", unit_code("XG-XN")), 200),
    Case("org:unit", "city_coord", u("org:unit", unit_code("HG-HZ")), 200, absent=("孝感",)),
    Case("org:unit", "city_coord", u("org:unit", unit_code("XG-XN")), 404),
    Case("org:unit", "city_coord", u("org:unit", unit_code("HB")), 404),
    Case("org:unit", "county_liaison", u("org:unit", unit_code("HG-HZ-ZH")), 200),
    Case("org:unit", "county_liaison", u("org:unit", unit_code("HG-MC")), 404),
    Case("org:unit", "staff", u("org:unit", unit_code("HG-HZ-ZH")), 404),
    Case("org:unit", "outsider", u("org:unit", unit_code("HG-HZ")), 404),
    Case("org:unit", "outsider", u("org:unit", unit_code("XG-XN")), 200, absent=("黄冈",)),
    # People.
    Case("org:person", "prov_coord", u("org:person", person_id("xn_clerk")), 200),
    Case("org:person", "city_coord", u("org:person", person_id("staff")), 200),
    Case("org:person", "city_coord", u("org:person", person_id("xn_clerk")), 404),
    Case("org:person", "county_liaison", u("org:person", person_id("staff")), 200),
    Case("org:person", "county_liaison", u("org:person", person_id("mc_clerk")), 404),
    Case("org:person", "staff", u("org:person", person_id("staff")), 200),
    Case("org:person", "staff", u("org:person", person_id("county_liaison")), 404),
    Case("org:person", "outsider", u("org:person", person_id("staff")), 404),
    Case("org:person", "outsider", u("org:person", person_id("xn_clerk")), 200),
    # Unmasking: only the person themself and liaisons/admins above them.
    Case(
        "org:person_reveal",
        "county_liaison",
        u("org:person_reveal", person_id("staff"), "id_number"),
        200,
        "post",
    ),
    Case(
        "org:person_reveal",
        "staff",
        u("org:person_reveal", person_id("staff"), "mobile"),
        200,
        "post",
    ),
    Case(
        "org:person_reveal",
        "city_coord",
        u("org:person_reveal", person_id("staff"), "id_number"),
        404,
        "post",
    ),
    Case(
        "org:person_reveal",
        "outsider",
        u("org:person_reveal", person_id("staff"), "id_number"),
        404,
        "post",
    ),
    Case(
        "org:person_reveal",
        "county_liaison",
        u("org:person_reveal", person_id("mc_clerk"), "mobile"),
        404,
        "post",
    ),
    Case(
        "org:person_reveal",
        "admin",
        u("org:person_reveal", person_id("staff"), "secret"),
        404,
        "post",
    ),
    # Audit trail: administrators only.
    Case("audit:events", "admin", u("audit:events"), 200),
    *[
        Case("audit:events", p, u("audit:events"), 404)
        for p in ["prov_coord", "city_coord", "county_liaison", "staff", "outsider"]
    ],
    # Roster: import page, another user's upload, export of another unit.
    Case("org:roster_import", "city_coord", u("org:roster_import"), 200),
    Case("org:roster_import", "staff", u("org:roster_import"), 404),
    Case(
        "org:roster_preview",
        "outsider",
        lambda w: reverse("org:roster_preview", args=[w.uploads["city_coord"].pk]),
        404,
    ),
    Case(
        "org:roster_preview",
        "city_coord",
        lambda w: reverse("org:roster_preview", args=[w.uploads["city_coord"].pk]),
        200,
    ),
    Case("org:roster_export", "city_coord", u("org:roster_export", query="?unit=HG"), 200),
    Case("org:roster_export", "city_coord", u("org:roster_export", query="?unit=XG"), 404),
    Case("org:roster_export", "outsider", u("org:roster_export", query="?unit=HG-HZ"), 404),
    Case("org:roster_export", "staff", u("org:roster_export", query="?unit=HG-HZ-ZH"), 404),
    # Health: individuals' check-ins are for the person, their unit's liaison and leader, and
    # coordinators above; proxy entry and corrections for liaisons only.
    Case("health:checkin", "staff", u("health:checkin"), 200),
    Case("health:checkin", "admin", u("health:checkin"), 404),
    Case(
        "health:checkin_proxy", "county_liaison", u("health:checkin_proxy", person_id("staff")), 200
    ),
    Case("health:checkin_proxy", "city_coord", u("health:checkin_proxy", person_id("staff")), 404),
    Case("health:checkin_proxy", "outsider", u("health:checkin_proxy", person_id("staff")), 404),
    Case(
        "health:checkin_proxy",
        "county_liaison",
        u("health:checkin_proxy", person_id("mc_clerk")),
        404,
    ),
    Case(
        "health:checkin_proxy", "staff", u("health:checkin_proxy", person_id("county_liaison")), 404
    ),
    Case("health:history", "staff", u("health:history"), 200),
    Case(
        "health:checkin_detail",
        "city_coord",
        lambda w: reverse("health:checkin_detail", args=[w.checkins["staff"].pk]),
        200,
    ),
    Case(
        "health:checkin_detail",
        "leader",
        lambda w: reverse("health:checkin_detail", args=[w.checkins["staff"].pk]),
        200,
    ),
    Case(
        "health:checkin_detail",
        "outsider",
        lambda w: reverse("health:checkin_detail", args=[w.checkins["staff"].pk]),
        404,
    ),
    Case(
        "health:checkin_detail",
        "county_liaison",
        lambda w: reverse("health:checkin_detail", args=[w.checkins["xn_clerk"].pk]),
        404,
    ),
    Case(
        "health:checkin_detail",
        "staff",
        lambda w: reverse("health:checkin_detail", args=[w.checkins["xn_clerk"].pk]),
        404,
    ),
    Case(
        "health:unit_day",
        "city_coord",
        u("health:unit_day", unit_code("HG-HZ")),
        200,
        absent=("孙丽",),
    ),
    Case("health:unit_day", "city_coord", u("health:unit_day", unit_code("XG-XN")), 404),
    Case("health:unit_day", "staff", u("health:unit_day", unit_code("HG-HZ-ZH")), 404),
    Case("health:unit_day", "outsider", u("health:unit_day", unit_code("HG-HZ")), 404),
    Case(
        "health:unit_day_chase",
        "county_liaison",
        u("health:unit_day_chase", unit_code("HG-HZ")),
        200,
    ),
    Case("health:unit_day_chase", "outsider", u("health:unit_day_chase", unit_code("HG-HZ")), 404),
    Case(
        "health:unit_day_export",
        "county_liaison",
        u("health:unit_day_export", unit_code("HG-HZ")),
        200,
    ),
    Case("health:unit_day_export", "city_coord", u("health:unit_day_export", unit_code("XG")), 404),
    Case(
        "health:unit_day_export", "staff", u("health:unit_day_export", unit_code("HG-HZ-ZH")), 404
    ),
    Case("health:cases", "outsider", u("health:cases"), 200, absent=("张伟",)),
    Case("health:cases", "city_coord", u("health:cases"), 200, absent=("孙丽",)),
    Case(
        "health:case",
        "city_coord",
        lambda w: reverse("health:case", args=[w.cases["staff"].pk]),
        200,
    ),
    Case(
        "health:case", "outsider", lambda w: reverse("health:case", args=[w.cases["staff"].pk]), 404
    ),
    Case(
        "health:case",
        "county_liaison",
        lambda w: reverse("health:case", args=[w.cases["xn_clerk"].pk]),
        404,
    ),
    Case(
        "health:exemption_add", "county_liaison", u("health:exemption_add", person_id("staff")), 200
    ),
    Case("health:exemption_add", "city_coord", u("health:exemption_add", person_id("staff")), 404),
    Case("health:exemption_add", "outsider", u("health:exemption_add", person_id("xn_clerk")), 404),
    # Reports: a unit's report is submitted by its liaison, read and reviewed above it.
    Case("reports:today", "county_liaison", u("reports:today"), 200, absent=("孝南",)),
    Case("reports:today", "staff", u("reports:today"), 200),
    Case(
        "reports:submit",
        "county_liaison",
        lambda w: f"/reports/{w.form.pk}/units/HG-HZ/2020-02-03/",
        200,
    ),
    Case(
        "reports:submit",
        "city_coord",
        lambda w: f"/reports/{w.form.pk}/units/HG-HZ/2020-02-03/",
        404,
    ),
    Case(
        "reports:submit", "outsider", lambda w: f"/reports/{w.form.pk}/units/HG-HZ/2020-02-03/", 404
    ),
    Case(
        "reports:submit",
        "county_liaison",
        lambda w: f"/reports/{w.form.pk}/units/XG-XN/2020-02-03/",
        404,
    ),
    Case("reports:report", "city_coord", lambda w: f"/reports/r/{w.reports['HG-HZ'].pk}/", 200),
    Case("reports:report", "outsider", lambda w: f"/reports/r/{w.reports['HG-HZ'].pk}/", 404),
    Case("reports:report", "county_liaison", lambda w: f"/reports/r/{w.reports['XG-XN'].pk}/", 404),
    Case("reports:report", "staff", lambda w: f"/reports/r/{w.reports['HG-HZ'].pk}/", 404),
    Case(
        "reports:rollup",
        "city_coord",
        lambda w: f"/reports/{w.form.pk}/rollup/?node=HG",
        200,
        absent=("孝南",),
    ),
    Case("reports:rollup", "city_coord", lambda w: f"/reports/{w.form.pk}/rollup/?node=XG", 404),
    Case("reports:rollup", "outsider", lambda w: f"/reports/{w.form.pk}/rollup/?node=HG-HZ", 404),
    Case("reports:rollup", "staff", lambda w: f"/reports/{w.form.pk}/rollup/", 404),
    Case(
        "reports:rollup_pdf",
        "city_coord",
        lambda w: f"/reports/{w.form.pk}/rollup.pdf?node=XG",
        404,
    ),
    Case("reports:ledger", "outsider", lambda w: f"/reports/{w.form.pk}/ledger.xlsx?node=HG", 404),
    Case("reports:ledger", "staff", lambda w: f"/reports/{w.form.pk}/ledger.xlsx", 404),
    Case("reports:dhis2", "city_coord", lambda w: f"/reports/{w.form.pk}/dhis2.json?node=HB", 404),
    Case(
        "reports:dhis2",
        "prov_coord",
        lambda w: f"/reports/{w.form.pk}/dhis2.json?node=HB",
        200,
        absent=(),
    ),
    Case("reports:history", "city_coord", lambda w: f"/reports/{w.form.pk}/units/HG-HZ/", 200),
    Case("reports:history", "outsider", lambda w: f"/reports/{w.form.pk}/units/HG-HZ/", 404),
    Case(
        "reports:unlock",
        "county_liaison",
        lambda w: f"/reports/{w.form.pk}/units/HG-HZ/2020-02-03/unlock/",
        404,
        "post",
        data={"reason": "自己解锁", "hours": 2},
    ),
    Case(
        "reports:unlock",
        "outsider",
        lambda w: f"/reports/{w.form.pk}/units/HG-HZ/2020-02-03/unlock/",
        404,
        "post",
        data={"reason": "越权", "hours": 2},
    ),
    Case(
        "reports:unlock",
        "city_coord",
        lambda w: f"/reports/{w.form.pk}/units/HG-HZ/2020-02-03/unlock/",
        302,
        "post",
        data={"reason": "同意补报", "hours": 2},
    ),
    Case(
        "reports:signal_review",
        "outsider",
        lambda w: f"/reports/{w.form.pk}/signals/",
        404,
        "post",
        data={"signal": "zero_run", "unit": "HG-HZ", "note": "越权"},
    ),
    Case(
        "reports:signal_review",
        "city_coord",
        lambda w: f"/reports/{w.form.pk}/signals/",
        302,
        "post",
        data={"signal": "zero_run", "unit": "HG-HZ", "note": "已核实"},
    ),
    # Notices: recipients and coordinators above read them; only coordinators publish.
    Case("notices:list", "staff", u("notices:list"), 200, absent=("孝感通知",)),
    Case("notices:new", "city_coord", u("notices:new"), 200),
    Case("notices:new", "county_liaison", u("notices:new"), 404),
    Case("notices:new", "staff", u("notices:new"), 404),
    Case("notices:detail", "county_liaison", lambda w: f"/notices/{w.notice.pk}/", 200),
    Case("notices:detail", "outsider", lambda w: f"/notices/{w.notice.pk}/", 404),
    Case("notices:detail", "staff", lambda w: f"/notices/{w.notice.pk}/", 404),
    Case("notices:ack", "county_liaison", lambda w: f"/notices/{w.notice.pk}/ack/", 302, "post"),
    Case("notices:ack", "outsider", lambda w: f"/notices/{w.notice.pk}/ack/", 404, "post"),
    Case("notices:ack", "city_coord", lambda w: f"/notices/{w.notice.pk}/ack/", 404, "post"),
    Case("notices:receipts", "city_coord", lambda w: f"/notices/{w.notice.pk}/receipts/", 200),
    Case("notices:receipts", "county_liaison", lambda w: f"/notices/{w.notice.pk}/receipts/", 404),
    Case("notices:receipts", "outsider", lambda w: f"/notices/{w.notice.pk}/receipts/", 404),
    Case(
        "notices:attachment",
        "county_liaison",
        lambda w: f"/notices/{w.notice.pk}/files/{w.notice_file.pk}/",
        200,
    ),
    Case(
        "notices:attachment",
        "outsider",
        lambda w: f"/notices/{w.notice.pk}/files/{w.notice_file.pk}/",
        404,
    ),
    Case("reports:verify", "admin", u("reports:verify"), 200),
    *[
        Case("reports:verify", p, u("reports:verify"), 404)
        for p in ["prov_coord", "city_coord", "county_liaison", "staff", "outsider"]
    ],
    # Notify: an inbox message is for its recipient alone, administrators included; the outbox
    # and its retry button are for administrators. Each path first adds 张伟's message.
    *[
        Case(
            "notify:inbox",
            p,
            lambda w: (
                w.users["staff"].messages.get_or_create(
                    key="scope.inbox.staff",
                    defaults={
                        "kind": "notice",
                        "channel": "inbox",
                        "subject": "张伟的站内消息",
                        "body": "仅本人可见",
                        "created_at": w.users["staff"].date_joined,
                    },
                ),
                reverse("notify:inbox"),
            )[1],
            200,
            absent=() if p == "staff" else ("张伟的站内消息",),
        )
        for p in ["staff", "admin", "county_liaison", "outsider"]
    ],
    *[
        Case(
            "notify:inbox_message",
            p,
            lambda w: reverse(
                "notify:inbox_message",
                args=[
                    w.users["staff"]
                    .messages.get_or_create(
                        key="scope.inbox.staff",
                        defaults={
                            "kind": "notice",
                            "channel": "inbox",
                            "subject": "张伟的站内消息",
                            "body": "仅本人可见",
                            "created_at": w.users["staff"].date_joined,
                        },
                    )[0]
                    .pk
                ],
            ),
            200 if p == "staff" else 404,
        )
        for p in ["staff", "admin", "leader", "county_liaison", "outsider"]
    ],
    Case("notify:outbox", "admin", u("notify:outbox"), 200),
    *[
        Case("notify:outbox", p, u("notify:outbox"), 404)
        for p in ["prov_coord", "city_coord", "county_liaison", "staff", "outsider"]
    ],
    *[
        Case(
            "notify:outbox_retry",
            p,
            lambda w: reverse(
                "notify:outbox_retry",
                args=[
                    w.users["staff"]
                    .messages.get_or_create(
                        key="scope.failed.staff",
                        defaults={
                            "kind": "reminder.checkin",
                            "channel": "sms",
                            "address": "13871000004",
                            "subject": "健康打卡提醒",
                            "body": "请完成健康打卡。",
                            "status": "failed",
                            "attempts": 6,
                            "last_error": "HTTP 500",
                            "created_at": w.users["staff"].date_joined,
                        },
                    )[0]
                    .pk
                ],
            ),
            302 if p == "admin" else 404,
            "post",
        )
        for p in ["admin", "prov_coord", "city_coord", "staff", "outsider"]
    ],
    # Screen: posts and display links are managed by coordinators inside their subtree (and
    # administrators); the unit screen follows unit scope; a display link needs no login.
    *[Case("screen:posts", p, u("screen:posts"), 200) for p in ["admin", "city_coord"]],
    Case("screen:posts", "outsider", u("screen:posts"), 200, absent=("戴口罩",)),
    *[
        Case("screen:posts", p, u("screen:posts"), 404)
        for p in ["county_liaison", "leader", "staff"]
    ],
    Case(
        "screen:posts",
        "outsider",
        u("screen:posts"),
        404,
        "post",
        data={"title": "越权", "body": "越权", "unit": "HG", "published_from": "2020-02-03"},
    ),
    *[
        Case(
            "screen:post_unpublish",
            p,
            lambda w: reverse("screen:post_unpublish", args=[w.screen_post.pk]),
            status,
            "post",
        )
        for p, status in [
            ("city_coord", 302),
            ("prov_coord", 302),
            ("outsider", 404),
            ("county_liaison", 404),
            ("staff", 404),
        ]
    ],
    *[Case("screen:links", p, u("screen:links"), 200) for p in ["admin", "city_coord"]],
    Case("screen:links", "outsider", u("screen:links"), 200, absent=("黄冈会议室屏幕",)),
    *[
        Case("screen:links", p, u("screen:links"), 404)
        for p in ["county_liaison", "leader", "staff"]
    ],
    Case(
        "screen:links",
        "outsider",
        u("screen:links"),
        404,
        "post",
        data={"name": "越权", "unit": "HG-HZ", "form": "1"},
    ),
    *[
        Case(
            "screen:link_revoke",
            p,
            lambda w: reverse("screen:link_revoke", args=[w.screen_link.pk]),
            status,
            "post",
        )
        for p, status in [("city_coord", 302), ("outsider", 404), ("staff", 404)]
    ],
    Case("screen:unit", "city_coord", u("screen:unit", "HG"), 200, absent=("张伟", "孝南")),
    Case("screen:unit", "county_liaison", u("screen:unit", "HG-HZ"), 200, absent=("张伟",)),
    Case("screen:unit", "city_coord", u("screen:unit", "XG"), 404),
    Case("screen:unit", "outsider", u("screen:unit", "HG"), 404),
    Case("screen:unit", "staff", u("screen:unit", "HG-HZ-ZH"), 404),
    Case("screen:unit_data", "city_coord", u("screen:unit_data", "HG"), 200),
    Case("screen:unit_data", "outsider", u("screen:unit_data", "HG-HZ"), 404),
    Case("screen:unit_data", "staff", u("screen:unit_data", "HG-HZ-ZH"), 404),
    Case(
        "screen:display",
        "outsider",
        lambda w: reverse("screen:display", args=[w.screen_token]),
        200,
        absent=("张伟", "李红梅", "孙丽"),
    ),
    Case(
        "screen:display", "city_coord", lambda w: reverse("screen:display", args=["no-such"]), 404
    ),
    Case(
        "screen:display",
        "city_coord",
        lambda w: reverse("screen:display", args=[w.screen_revoked_token]),
        404,
    ),
    Case(
        "screen:display_data",
        "staff",
        lambda w: reverse("screen:display_data", args=[w.screen_token]),
        200,
    ),
    Case(
        "screen:display_data",
        "city_coord",
        lambda w: reverse("screen:display_data", args=[w.screen_revoked_token]),
        404,
    ),
]


# The household list (issue 12, item 5): the person themself and whoever reports for their unit.
def _member(key):
    return lambda w: w.people[key].family.order_by("id").first().pk


PAGE_CASES += [
    Case("org:family", "staff", u("org:family", person_id("staff")), 200),
    Case("org:family", "county_liaison", u("org:family", person_id("staff")), 200),
    *[
        Case("org:family", p, u("org:family", person_id("staff")), 404)
        for p in ["leader", "city_coord", "outsider"]
    ],
    Case("org:family", "staff", u("org:family", person_id("county_liaison")), 404),
    Case("org:family", "county_liaison", u("org:family", person_id("xn_clerk")), 404),
    Case(
        "org:family_move_out",
        "staff",
        u("org:family_move_out", person_id("staff"), _member("staff")),
        302,
        "post",
        data={"moved_out_on": "2020-02-03"},
    ),
    *[
        Case(
            "org:family_move_out",
            p,
            u("org:family_move_out", person_id("staff"), _member("staff")),
            404,
            "post",
            data={"moved_out_on": "2020-02-03"},
        )
        for p in ["leader", "city_coord", "outsider"]
    ],
    # Someone else's family member through one's own household: 404.
    Case(
        "org:family_move_out",
        "staff",
        u("org:family_move_out", person_id("staff"), _member("xn_clerk")),
        404,
        "post",
        data={"moved_out_on": "2020-02-03"},
    ),
]


# The leading group (issue 12, item 4): seen with the unit, managed by its liaison and coordinators.
def _seat(unit_code, person_key):
    """A member's seat in a unit's group, made once per world through the service."""

    def make(w):
        from datetime import date

        from fangkong.org import services as org_services

        seats = w.__dict__.setdefault("seats", {})
        if unit_code not in seats:
            seats[unit_code] = org_services.leading_group_appoint(
                actor=w.users["admin"],
                unit=w.units[unit_code],
                person=w.people[person_key],
                role="member",
                valid_from=date.today(),
            )
        return seats[unit_code].pk

    return make


PAGE_CASES += [
    *[
        Case("org:leading_group", p, u("org:leading_group", unit_code("HG-HZ")), 200)
        for p in ["prov_coord", "city_coord", "county_liaison", "leader"]
    ],
    *[
        Case("org:leading_group", p, u("org:leading_group", unit_code("HG-HZ")), 404)
        for p in ["staff", "outsider"]
    ],
    Case(
        "org:leading_group",
        "leader",
        u("org:leading_group", unit_code("HG-HZ")),
        404,
        "post",
        data={"role": "member"},
    ),
    *[
        Case(
            "org:leading_group_end",
            p,
            u("org:leading_group_end", unit_code("HG-HZ"), _seat("HG-HZ", "staff")),
            302,
            "post",
            data={"valid_to": "2020-02-03"},
        )
        for p in ["county_liaison", "city_coord"]
    ],
    *[
        Case(
            "org:leading_group_end",
            p,
            u("org:leading_group_end", unit_code("HG-HZ"), _seat("HG-HZ", "staff")),
            404,
            "post",
            data={"valid_to": "2020-02-03"},
        )
        for p in ["leader", "staff", "outsider"]
    ],
    # Another unit's seat through one's own unit: 404.
    Case(
        "org:leading_group_end",
        "county_liaison",
        u("org:leading_group_end", unit_code("HG-HZ"), _seat("XG-XN", "xn_clerk")),
        404,
        "post",
        data={"valid_to": "2020-02-03"},
    ),
]

# Platform sign-in (issue 12, item 2): the confirmation needs a pending identity in the session
# (none here: refused); the adoption counts follow the people-view scope.
PAGE_CASES += [
    Case("sso:confirm", "staff", u("sso:confirm"), 403),
    Case("sso:confirm", "admin", u("sso:confirm"), 403, "post", data={"action": "confirm"}),
    Case("sso:adoption", "admin", u("sso:adoption", query="?node=XG"), 200),
    Case("sso:adoption", "prov_coord", u("sso:adoption"), 200),
    Case("sso:adoption", "city_coord", u("sso:adoption", query="?node=HG"), 200, absent=("孝感",)),
    Case("sso:adoption", "city_coord", u("sso:adoption", query="?node=XG"), 404),
    Case("sso:adoption", "county_liaison", u("sso:adoption", query="?node=HG-HZ"), 200),
    Case("sso:adoption", "county_liaison", u("sso:adoption", query="?node=HG"), 404),
    Case("sso:adoption", "leader", u("sso:adoption", query="?node=HG-HZ"), 200),
    Case("sso:adoption", "outsider", u("sso:adoption", query="?node=HG-HZ"), 404),
    Case("sso:adoption", "staff", u("sso:adoption"), 404),
    Case("sso:adoption", "staff", u("sso:adoption", query="?node=HG-HZ-ZH"), 404),
]

API_CASES = [
    Case("GET /api/v1/me", p, lambda w: "/api/v1/me", 200)
    for p in ["admin", "prov_coord", "city_coord", "county_liaison", "staff", "outsider"]
] + [
    Case("GET /api/v1/units", "city_coord", lambda w: "/api/v1/units", 200, absent=("XG",)),
    Case("GET /api/v1/units", "staff", lambda w: "/api/v1/units", 200, absent=("HG-HZ",)),
    Case("GET /api/v1/units", "city_coord", lambda w: "/api/v1/units?parent=XG", 404),
    Case("GET /api/v1/units/{code}", "city_coord", lambda w: "/api/v1/units/XG-XN", 404),
    Case("GET /api/v1/units/{code}", "outsider", lambda w: "/api/v1/units/HG", 404),
    Case("GET /api/v1/units/{code}", "prov_coord", lambda w: "/api/v1/units/XG-XN", 200),
    Case(
        "GET /api/v1/units/{code}/people", "city_coord", lambda w: "/api/v1/units/XG-XN/people", 404
    ),
    Case(
        "GET /api/v1/units/{code}/people",
        "county_liaison",
        lambda w: "/api/v1/units/HG-HZ-ZH/people",
        200,
    ),
    Case(
        "GET /api/v1/units/{code}/people", "staff", lambda w: "/api/v1/units/HG-HZ-ZH/people", 404
    ),
    Case(
        "GET /api/v1/people/{person_id}",
        "city_coord",
        lambda w: f"/api/v1/people/{w.people['xn_clerk'].pk}",
        404,
    ),
    Case(
        "GET /api/v1/people/{person_id}",
        "outsider",
        lambda w: f"/api/v1/people/{w.people['staff'].pk}",
        404,
    ),
    Case(
        "GET /api/v1/people/{person_id}",
        "staff",
        lambda w: f"/api/v1/people/{w.people['county_liaison'].pk}",
        404,
    ),
    Case(
        "GET /api/v1/people/{person_id}",
        "staff",
        lambda w: f"/api/v1/people/{w.people['staff'].pk}",
        200,
    ),
    Case(
        "POST /api/v1/checkins",
        "staff",
        lambda w: "/api/v1/checkins",
        200,
        "post",
        data={"attested": True, "subjects": [{"temperature": 36.5, "work_mode": "on_site"}]},
    ),
    Case(
        "POST /api/v1/checkins", "outsider", lambda w: "/api/v1/checkins", 404, "post", data=None
    ),  # person_id filled in by the test: the staff member of another city
    Case(
        "POST /api/v1/checkins", "city_coord", lambda w: "/api/v1/checkins", 404, "post", data=None
    ),  # coordinators see people but do not report for them
    Case("GET /api/v1/checkins/mine", "staff", lambda w: "/api/v1/checkins/mine", 200),
    Case(
        "GET /api/v1/checkins/mine",
        "outsider",
        lambda w: "/api/v1/checkins/mine",
        200,
        absent=("39.1",),
    ),
    Case(
        "GET /api/v1/units/{code}/checkins",
        "county_liaison",
        lambda w: "/api/v1/units/HG-HZ/checkins",
        200,
    ),
    Case(
        "GET /api/v1/units/{code}/checkins",
        "city_coord",
        lambda w: "/api/v1/units/XG-XN/checkins",
        404,
    ),
    Case(
        "GET /api/v1/units/{code}/checkins",
        "staff",
        lambda w: "/api/v1/units/HG-HZ-ZH/checkins",
        404,
    ),
]


def _all_url_names(resolver=None, namespace="") -> set[str]:
    names = set()
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            names |= _all_url_names(p, ns)
        elif isinstance(p, URLPattern) and p.name:
            names.add(namespace + p.name)
    return names


def test_every_url_has_a_scope_case():
    covered = {c.name for c in PAGE_CASES}
    missing = {
        n
        for n in _all_url_names()
        if n not in covered
        and n not in EXEMPT
        and not n.startswith(tuple(EXEMPT_PREFIXES))
        and not n.startswith("api:")
    }
    assert not missing, f"URL patterns without a scope test: {sorted(missing)}"


def test_every_api_operation_has_a_scope_case():
    schema = api.get_openapi_schema()
    operations = {
        f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops
    }
    covered = {c.name for c in API_CASES}
    assert operations - covered == set(), (
        f"API operations without a scope test: {operations - covered}"
    )
    # Every operation requires authentication.
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            assert op.get("security"), f"{method} {path} is open to anonymous callers"


@pytest.fixture
def scoped_world(world, client_for):
    from fangkong.accounts import services as account_services
    from fangkong.org.models import RosterUpload

    world.tokens = {}
    world.tokens["outsider"], _ = account_services.token_create(
        actor=world.users["outsider"], user=world.users["outsider"], name="script"
    )
    world.uploads = {
        "city_coord": RosterUpload.objects.create(
            uploaded_by=world.users["city_coord"],
            original_name="x.csv",
            content=b"a,b\n",
            sha256="0" * 64,
        )
    }
    from fangkong.accounts.models import AccountBatch
    from fangkong.lib import clock as server_clock

    world.batch = AccountBatch.objects.create(
        unit=world.units["HG-HZ"],
        created_by=world.users["city_coord"],
        delivery="sms",
        username_rule="mobile",
        status="done",
        created_at=server_clock.now(),
    )
    world.checkins, world.cases = {}, {}
    from decimal import Decimal

    from fangkong.health import services as health
    from fangkong.health.models import CheckIn, FollowUpCase

    for key in ["staff", "xn_clerk"]:
        person = world.people[key]
        actor = world.users.get(key) or world.users["admin"]
        health.checkin_submit(
            actor=actor,
            person=person,
            channel="web",
            answers=[
                health.Answers(temperature=Decimal("39.1"), work_mode="on_site", attested=True)
            ],
        )
        world.checkins[key] = CheckIn.objects.get(person=person, family_member__isnull=True)
        world.cases[key] = FollowUpCase.objects.get(person=person)
    from datetime import date

    from fangkong.lib import clock
    from fangkong.org.models import UnitLevel
    from fangkong.reports import services as reports
    from fangkong.reports.models import ReportForm

    world.form = ReportForm.objects.create(
        code="daily", name="日报", root=world.units["HB"], active_from=date(2020, 1, 1)
    )
    world.form.levels.set(UnitLevel.objects.filter(code__in=["province", "city", "county"]))
    clock.freeze(clock.local_datetime(date(2020, 2, 3), __import__("datetime").time(9)))
    world.reports = {
        code: reports.report_submit(
            actor=world.users["admin"],
            form=world.form,
            unit=world.units[code],
            day=date(2020, 2, 3),
            kind="zero",
        )
        for code in ["HG-HZ", "XG-XN"]
    }
    from fangkong.notices import services as notices

    world.notice = notices.notice_publish(
        actor=world.users["city_coord"],
        unit=world.units["HG"],
        title="黄冈通知",
        body="正文",
        kind="notice",
        audiences=["liaison", "leader"],
        files=[("附件.txt", b"hello")],
    )
    world.notice_file = world.notice.attachments.get()
    notices.notice_publish(
        actor=world.users["outsider"],
        unit=world.units["XG"],
        title="孝感通知",
        body="正文",
        kind="notice",
        audiences=["staff"],
    )
    clock.freeze(None)
    # Screen: a post and two display links of 黄冈 (one revoked), all by its coordinator.
    from fangkong.screen import services as screen

    coord = world.users["city_coord"]
    world.screen_post = screen.post_create(
        actor=coord, title="戴口罩", body="外出请戴口罩。", unit=world.units["HG"]
    )
    world.screen_link, world.screen_token = screen.display_link_create(
        actor=coord, node=world.units["HG"], form=world.form, name="黄冈会议室屏幕"
    )
    revoked, world.screen_revoked_token = screen.display_link_create(
        actor=coord, node=world.units["HG"], form=world.form, name="旧屏幕"
    )
    screen.display_link_revoke(actor=coord, link=revoked)
    return world


def _request(client, case: Case, world):
    path = case.path(world)
    if case.method != "post":
        return client.get(path)
    if path.startswith("/api/"):
        data = case.data
        if data is None:
            data = {
                "person_id": world.people["staff"].pk,
                "attested": True,
                "subjects": [{"temperature": 36.5, "work_mode": "on_site"}],
            }
        return client.post(path, data, content_type="application/json")
    data = dict(case.data or {})
    if data.get("holder") == "LIAISON":
        data["holder"] = str(world.people["county_liaison"].pk)
    return client.post(path, data)


@pytest.mark.parametrize("case", PAGE_CASES, ids=lambda c: f"{c.name}-{c.persona}-{c.status}")
def test_page_scope(case, scoped_world, client_for):
    r = _request(client_for(case.persona), case, scoped_world)
    assert r.status_code == case.status
    body = (
        r.content.decode(errors="replace") if r.get("Content-Type", "").startswith("text") else ""
    )
    for text in case.absent:
        assert text not in body


@pytest.mark.parametrize("case", API_CASES, ids=lambda c: f"{c.name}-{c.persona}-{c.status}")
def test_api_scope(case, scoped_world, client_for):
    r = _request(client_for(case.persona), case, scoped_world)
    assert r.status_code == case.status, r.content
    for text in case.absent:
        assert f'"{text}"' not in r.content.decode()


def test_not_yours_and_missing_answer_alike(world, client_for):
    c = client_for("city_coord")
    foreign, missing = c.get("/org/units/XG-XN/"), c.get("/org/units/NO-SUCH/")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    foreign = c.get(f"/api/v1/people/{world.people['xn_clerk'].pk}")
    missing = c.get("/api/v1/people/999999")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


def test_anonymous_gets_nothing(world, client):
    assert client.get("/api/v1/units").status_code == 401
    assert client.get(f"/org/people/{world.people['staff'].pk}/").status_code == 302
