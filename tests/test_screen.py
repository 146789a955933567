"""Education posts and the big screen: scope, display links without login, totals only."""

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.template import Context, Template
from django.test import Client

from fangkong.audit.models import AuditEvent
from fangkong.screen import selectors, services
from fangkong.screen.models import DisplayLink, EducationPost

D = date(2020, 2, 3)


def at(hour: int, minute: int = 0, day: date = D) -> datetime:
    from fangkong.lib import clock

    return clock.local_datetime(day, time(hour, minute))


@pytest.fixture
def day(world, clock):
    """A daily form over the province; by 11:00 HG-HZ reported on time with figures, HG-MC late,
    XG-XN with a zero report on time; HB, HG and XG are missing. The clerk checked in with fever."""
    from fangkong.health import services as health
    from fangkong.org import services as org_services
    from fangkong.reports import services as reports

    admin = world.users["admin"]
    form = reports.form_create(
        actor=admin,
        code="daily",
        name="疫情防控日报告",
        root=world.units["HB"],
        level_codes=["province", "city", "county"],
        active_from=date(2020, 1, 1),
    )
    clock.freeze(at(8))
    health.checkin_submit(
        actor=world.users["staff"],
        person=world.people["staff"],
        channel="web",
        answers=[health.Answers(temperature=Decimal("38.6"), work_mode="on_site", attested=True)],
    )
    values = dict.fromkeys(form.field_keys, 0) | {"staff_fever": 1, "family_quarantine": 2}
    clock.freeze(at(9))
    reports.report_submit(
        actor=admin,
        form=form,
        unit=world.units["HG-HZ"],
        day=D,
        kind="daily",
        values=values,
        explanation="含外单位借调人员",
    )
    reports.report_submit(actor=admin, form=form, unit=world.units["XG-XN"], day=D, kind="zero")
    clock.freeze(at(10, 30))
    # HG-MC reports three people with fever: its clerk and two family members are on the roster
    # (a figure may not exceed the people the unit has).
    for name in ("周一", "周二"):
        org_services.family_member_add(
            actor=admin, person=world.people["mc_clerk"], name=name, relation="child"
        )
    reports.report_submit(
        actor=admin,
        form=form,
        unit=world.units["HG-MC"],
        day=D,
        kind="daily",
        values=dict.fromkeys(form.field_keys, 0) | {"staff_fever": 3},
        explanation="据医院通报",
    )
    clock.freeze(at(11))
    return form


def make_link(world, form, who="city_coord", unit="HG", name="3楼大厅屏幕"):
    return services.display_link_create(
        actor=world.users[who], node=world.units[unit], form=form, name=name
    )


def all_names(world) -> list[str]:
    from fangkong.org.models import FamilyMember, Person

    names = list(Person.objects.values_list("name", flat=True))
    names += list(FamilyMember.objects.values_list("name", flat=True))
    assert len(names) >= 10
    return names


# --- the unit screen ----------------------------------------------------------------------


def test_unit_screen_for_scoped_users_only(world, day, client_for):
    ok = client_for("city_coord").get("/screen/u/HG/")
    assert ok.status_code == 200
    assert "黄冈市审计局" in ok.content.decode()
    assert 'id="chart-trend"' in ok.content.decode()
    assert client_for("city_coord").get("/screen/u/HG/data.json").status_code == 200
    assert client_for("county_liaison").get("/screen/u/HG-HZ/").status_code == 200
    for persona, code in [
        ("outsider", "HG"),
        ("city_coord", "XG"),
        ("city_coord", "HB"),
        ("staff", "HG-HZ-ZH"),
        ("county_liaison", "HG-MC"),
    ]:
        c = client_for(persona)
        assert c.get(f"/screen/u/{code}/").status_code == 404, (persona, code)
        assert c.get(f"/screen/u/{code}/data.json").status_code == 404, (persona, code)
    assert Client().get("/screen/u/HG/").status_code == 302


def test_unit_screen_form_must_apply(world, day, client_for):
    from fangkong.reports.models import ReportForm

    other = ReportForm.objects.create(
        code="xg", name="孝感日报", root=world.units["XG"], active_from=date(2020, 1, 1)
    )
    c = client_for("prov_coord")
    assert c.get(f"/screen/u/HG/?form={day.pk}").status_code == 200
    assert c.get(f"/screen/u/HG/?form={other.pk}").status_code == 404
    assert c.get("/screen/u/HG/?form=abc").status_code == 404
    assert c.get("/screen/u/HG/?form=999999").status_code == 404


def test_screen_figures_are_totals(world, day, client_for):
    data = client_for("prov_coord").get("/screen/u/HB/data.json").json()
    stats = data["stats"]
    # Expected: HB, HG, HG-HZ, HG-MC, XG, XG-XN. Received: HG-HZ, XG-XN (zero), HG-MC (late).
    assert stats["expected"] == 6
    assert stats["received"] == 3
    assert stats["zero"] == 1
    assert stats["late"] == 1
    assert stats["missing"] == 3
    assert stats["completeness"] == 50.0
    assert stats["timeliness"] == pytest.approx(33.3)
    assert len(data["trend"]["days"]) == 30
    assert data["trend"]["completeness"][-1] == 50.0
    assert data["children"]["names"] == ["黄冈市审计局", "孝感市审计局"]
    assert data["children"]["late"] == [1, 0]
    assert data["children"]["missing"] == [1, 1]
    overdue = {u["name"]: u for u in data["overdue"]["units"]}
    assert set(overdue) == {"湖北省审计厅", "黄冈市审计局", "孝感市审计局", "麻城市审计局"}
    assert overdue["麻城市审计局"]["status"] == "late"
    assert overdue["麻城市审计局"]["branch"] == "黄冈市审计局"
    assert data["overdue"]["units"][0]["status"] == "missing"
    # HB's children HG and XG reported nothing themselves: no reporting child has figures.
    by_key = {f["key"]: f for f in data["figures"]}
    assert by_key["staff_fever"]["reported"] == 0
    assert by_key["staff_fever"]["derived"] == 1
    assert data["checkins"] == {"staff": 1, "family": 0}
    # At the city, the counties' reports add up.
    city = client_for("city_coord").get("/screen/u/HG/data.json").json()
    by_key = {f["key"]: f for f in city["figures"]}
    assert by_key["staff_fever"]["reported"] == 4
    assert by_key["family_quarantine"]["reported"] == 2
    assert by_key["staff_fever"]["derived"] == 1
    assert city["reported_units"] == 2
    # A county without reporting children shows its own report.
    county = client_for("county_liaison").get("/screen/u/HG-HZ/data.json").json()
    assert {f["key"]: f["reported"] for f in county["figures"]}["staff_fever"] == 1


def test_data_json_contains_no_person_names(world, day, client_for):
    EducationPost.objects.all().delete()
    link, raw = make_link(world, day, who="prov_coord", unit="HB")
    names = all_names(world)
    bodies = [
        Client().get(f"/screen/d/{raw}/data.json").content.decode(),
        Client().get(f"/screen/d/{raw}/").content.decode(),
        client_for("prov_coord").get("/screen/u/HB/data.json").content.decode(),
        client_for("city_coord").get("/screen/u/HG/data.json").content.decode(),
        client_for("county_liaison").get("/screen/u/HG-HZ/data.json").content.decode(),
        client_for("county_liaison").get("/screen/u/HG-HZ/").content.decode(),
    ]
    for body in bodies:
        assert "黄" in body or "湖北" in body  # the body really is in Chinese, not escaped
        for name in names:
            assert name not in body, name
    # Nor any mobile number or account.
    for body in bodies:
        assert not re.search(r"1387100\d{4}", body)
        for user in world.users.values():
            assert str(user) not in body


def test_data_json_query_count_does_not_grow(world, day, client_for, django_assert_max_num_queries):
    c = client_for("prov_coord")
    with django_assert_max_num_queries(25):
        assert c.get("/screen/u/HB/data.json").status_code == 200


# --- display links ------------------------------------------------------------------------


def test_coordinator_creates_link_and_display_works_without_login(world, day, client_for, clock):
    c = client_for("city_coord")
    r = c.post("/screen/links/", {"name": "3楼大厅屏幕", "unit": "HG", "form": day.pk})
    assert r.status_code == 302
    page = c.get(r["Location"]).content.decode()
    url = re.search(r'<code id="new-link">([^<]+)</code>', page).group(1)
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 40
    link = DisplayLink.objects.get()
    assert link.token_hash == selectors.token_hash(token)
    assert token not in link.token_hash
    assert link.node == world.units["HG"] and link.created_by == world.users["city_coord"]
    assert AuditEvent.objects.filter(action="display_link.create", object_id=str(link.pk)).exists()
    # The URL is shown once: the list does not show it again.
    assert token not in c.get("/screen/links/").content.decode()

    events = AuditEvent.objects.count()
    anon = Client()
    r = anon.get(f"/screen/d/{token}/")
    assert r.status_code == 200
    body = r.content.decode()
    assert "黄冈市审计局" in body and "疫情防控电子大屏" in body
    assert r["Referrer-Policy"] == "no-referrer"
    assert "no-store" in r["Cache-Control"]
    link.refresh_from_db()
    first_seen = link.last_seen_at
    assert first_seen is not None
    clock.advance(timedelta(minutes=1))
    data = anon.get(f"/screen/d/{token}/data.json")
    assert data.status_code == 200
    assert data.json()["node"]["name"] == "黄冈市审计局"
    link.refresh_from_db()
    assert link.last_seen_at > first_seen
    assert AuditEvent.objects.count() == events  # no audit event per view or refresh


def test_display_link_speaks_chinese_to_an_english_browser(world, day):
    _link, raw = make_link(world, day)
    r = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/screen/d/{raw}/")
    assert r.status_code == 200
    assert "疫情防控电子大屏" in r.content.decode()


def test_revoked_and_unknown_tokens_answer_alike(world, day, client_for):
    link, raw = make_link(world, day)
    anon = Client()
    assert anon.get(f"/screen/d/{raw}/").status_code == 200
    r = client_for("city_coord").post(f"/screen/links/{link.pk}/revoke/")
    assert r.status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert AuditEvent.objects.filter(action="display_link.revoke", object_id=str(link.pk)).exists()
    for suffix in ["", "data.json"]:
        revoked = anon.get(f"/screen/d/{raw}/{suffix}")
        unknown = anon.get(f"/screen/d/{'x' * len(raw)}/{suffix}")
        assert revoked.status_code == unknown.status_code == 404
        assert revoked.content == unknown.content
    assert anon.get(f"/screen/d/{'y' * 500}/").status_code == 404


def test_link_dies_with_its_creators_scope(world, day):
    from fangkong.org import services as org_services
    from fangkong.org.models import RoleAssignment

    _link, raw = make_link(world, day)
    assert Client().get(f"/screen/d/{raw}/").status_code == 200
    assignment = RoleAssignment.objects.get(user=world.users["city_coord"], role="coordinator")
    org_services.role_revoke(actor=world.users["admin"], assignment=assignment)
    assert Client().get(f"/screen/d/{raw}/").status_code == 404


def test_coordinator_cannot_make_or_revoke_links_outside_their_city(world, day, client_for):
    outsider = client_for("outsider")
    r = outsider.post("/screen/links/", {"name": "越权", "unit": "HG", "form": day.pk})
    assert r.status_code == 404
    assert not DisplayLink.objects.exists()
    with pytest.raises(PermissionDenied):
        make_link(world, day, who="outsider", unit="HG-HZ")
    with pytest.raises(PermissionDenied):
        make_link(world, day, who="county_liaison", unit="HG-HZ")  # liaisons do not manage
    link, _raw = make_link(world, day, name="黄冈会议室屏幕")
    assert outsider.post(f"/screen/links/{link.pk}/revoke/").status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None
    # The list shows only links inside the user's subtree.
    assert "黄冈会议室屏幕" not in outsider.get("/screen/links/").content.decode()
    assert "黄冈会议室屏幕" in client_for("prov_coord").get("/screen/links/").content.decode()
    # The outsider's own city works.
    r = outsider.post(
        "/screen/links/", {"name": "孝感屏幕", "unit": "XG", "form": day.pk}, follow=True
    )
    assert r.status_code == 200 and 'id="new-link"' in r.content.decode()
    for persona in ["staff", "county_liaison", "leader"]:
        assert client_for(persona).get("/screen/links/").status_code == 404


def test_link_form_must_apply_to_the_unit(world, day, client_for):
    from fangkong.reports.models import ReportForm

    other = ReportForm.objects.create(
        code="hz", name="黄州日报", root=world.units["HG-HZ"], active_from=date(2020, 1, 1)
    )
    r = client_for("prov_coord").post(
        "/screen/links/", {"name": "孝感屏幕", "unit": "XG", "form": other.pk}
    )
    assert r.status_code == 200
    assert "该报表不适用于所选单位" in r.content.decode()
    assert not DisplayLink.objects.exists()


# --- education posts ----------------------------------------------------------------------


@pytest.fixture
def posts(world, clock):
    clock.freeze(at(9))
    admin, city, outsider = (world.users[k] for k in ["admin", "city_coord", "outsider"])

    def post(actor, title, unit=None, start=None, end=None):
        return services.post_create(
            actor=actor,
            title=title,
            body=f"{title}的正文。",
            source="国家卫生健康委",
            unit=world.units[unit] if unit else None,
            published_from=start,
            published_until=end,
        )

    made = {
        "global": post(admin, "勤洗手"),
        "hg": post(city, "黄冈：戴口罩", "HG"),
        "hz": post(city, "黄州：少聚集", "HG-HZ"),
        "xg": post(outsider, "孝感：常通风", "XG"),
        "old": post(admin, "过期内容", start=at(9, day=D - timedelta(days=5)), end=at(0)),
        "future": post(admin, "明日内容", start=at(9, day=D + timedelta(days=1))),
    }
    clock.freeze(at(9, 30))
    return made


def titles(qs) -> set[str]:
    return {p.title for p in qs}


def test_posts_visibility_by_scope_and_dates(world, posts, clock):
    u = world.users
    assert titles(selectors.posts_visible_to(u["staff"])) == {
        "勤洗手",
        "黄冈：戴口罩",
        "黄州：少聚集",
    }
    assert titles(selectors.posts_visible_to(u["city_coord"])) == {"勤洗手", "黄冈：戴口罩"}
    assert titles(selectors.posts_visible_to(u["outsider"])) == {"勤洗手", "孝感：常通风"}
    assert titles(selectors.posts_visible_to(u["prov_coord"])) == {"勤洗手"}
    assert titles(selectors.posts_visible_to(u["admin"])) == {
        "勤洗手",
        "黄冈：戴口罩",
        "黄州：少聚集",
        "孝感：常通风",
    }
    assert titles(selectors.posts_for_node(world.units["HG-MC"])) == {"勤洗手", "黄冈：戴口罩"}
    assert titles(selectors.posts_for_node(world.units["XG-XN"])) == {"勤洗手", "孝感：常通风"}
    clock.freeze(at(9, day=D + timedelta(days=1)))
    assert "明日内容" in titles(selectors.posts_visible_to(u["staff"]))
    assert "过期内容" not in titles(selectors.posts_visible_to(u["staff"]))


def test_education_posts_tag_renders_three_latest(world, posts, clock):
    for i in range(3):
        clock.advance(timedelta(minutes=1))
        services.post_create(actor=world.users["admin"], title=f"新知识{i}", body="正文", unit=None)
    html = Template("{% load screen %}{% education_posts user %}").render(
        Context({"user": world.users["staff"]})
    )
    assert html.count("<article") == 3
    assert "新知识2" in html and "新知识0" in html and "黄州：少聚集" not in html
    empty = Template("{% load screen %}{% education_posts user %}").render(
        Context({"user": world.users["prov_coord"]})
    )
    assert "<article" in empty  # prov_coord still sees the everywhere-posts
    from django.contrib.auth.models import AnonymousUser

    anon = Template("{% load screen %}{% education_posts user %}").render(
        Context({"user": AnonymousUser()})
    )
    assert anon.strip() == ""


def test_posts_page_scope(world, posts, client_for):
    city = client_for("city_coord")
    page = city.get("/screen/posts/").content.decode()
    assert "黄冈：戴口罩" in page and "黄州：少聚集" in page
    assert "孝感：常通风" not in page and "勤洗手" not in page
    for persona in ["staff", "county_liaison", "leader"]:
        assert client_for(persona).get("/screen/posts/").status_code == 404
    # A coordinator may aim only inside their subtree, and must choose a unit.
    data = {"title": "越权", "body": "正文", "published_from": "2020-02-03"}
    assert city.post("/screen/posts/", data | {"unit": "XG"}).status_code == 404
    r = city.post("/screen/posts/", data | {"unit": ""})
    assert r.status_code == 200 and "请选择展示范围" in r.content.decode()
    assert not EducationPost.objects.filter(title="越权").exists()
    r = city.post("/screen/posts/", data | {"unit": "HG-MC", "title": "麻城：勤通风"})
    assert r.status_code == 302
    made = EducationPost.objects.get(title="麻城：勤通风")
    assert made.unit == world.units["HG-MC"] and made.published_until is None
    assert AuditEvent.objects.filter(action="screen_post.create", object_id=str(made.pk)).exists()
    # An administrator may post everywhere.
    r = client_for("admin").post("/screen/posts/", data | {"unit": "", "title": "全省通知"})
    assert r.status_code == 302
    assert EducationPost.objects.get(title="全省通知").unit is None
    # The body is short.
    r = city.post("/screen/posts/", data | {"unit": "HG", "body": "长" * 301})
    assert r.status_code == 200 and not EducationPost.objects.filter(body="长" * 301).exists()


def test_unpublish(world, posts, client_for):
    hg = posts["hg"]
    assert client_for("outsider").post(f"/screen/posts/{hg.pk}/unpublish/").status_code == 404
    assert client_for("staff").post(f"/screen/posts/{hg.pk}/unpublish/").status_code == 404
    assert client_for("city_coord").get(f"/screen/posts/{hg.pk}/unpublish/").status_code == 405
    assert "黄冈：戴口罩" in titles(selectors.posts_visible_to(world.users["staff"]))
    r = client_for("city_coord").post(f"/screen/posts/{hg.pk}/unpublish/")
    assert r.status_code == 302
    assert "黄冈：戴口罩" not in titles(selectors.posts_visible_to(world.users["staff"]))
    assert AuditEvent.objects.filter(action="screen_post.unpublish", object_id=str(hg.pk)).exists()
    # A coordinator cannot unpublish an everywhere-post; an administrator can.
    glob = posts["global"]
    assert client_for("city_coord").post(f"/screen/posts/{glob.pk}/unpublish/").status_code == 404
    assert client_for("admin").post(f"/screen/posts/{glob.pk}/unpublish/").status_code == 302
    assert titles(selectors.posts_visible_to(world.users["staff"])) == {"黄州：少聚集"}


def test_screen_shows_the_nodes_posts(world, day, posts, client_for, clock):
    clock.freeze(at(11))
    data = client_for("city_coord").get("/screen/u/HG/data.json").json()
    assert {p["title"] for p in data["posts"]} == {"勤洗手", "黄冈：戴口罩"}
    link, raw = make_link(world, day, who="outsider", unit="XG")
    data = Client().get(f"/screen/d/{raw}/data.json").json()
    assert {p["title"] for p in data["posts"]} == {"勤洗手", "孝感：常通风"}
