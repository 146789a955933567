"""Roles managed in the app (a unit's roles page): coordinators grant and revoke inside their
subtree and never above their own role, a liaison names a deputy, every change is audited and
effective on the next request, and a revoked role narrows its holder's API tokens at once."""

from django.test import Client

from fangkong.accounts import services as account_services
from fangkong.audit.models import AuditEvent
from fangkong.org import services
from fangkong.org.models import OrgUnit, RoleAssignment


def grant(client, unit, role, person):
    return client.post(f"/accounts/units/{unit}/roles/", {"role": role, "person": person.pk})


def revoke(client, unit, role, holder_id):
    return client.post(f"/accounts/units/{unit}/roles/revoke/", {"role": role, "holder": holder_id})


def test_the_page_lists_every_role_holder_of_the_unit(world, client_for):
    services.role_assign(
        actor=world.users["admin"],
        user=world.users["staff"],
        role="duty_officer",
        unit=world.units["HG-HZ"],
    )
    r = client_for("city_coord").get("/accounts/units/HG-HZ/roles/")
    assert r.status_code == 200
    holders = [(h.role, h.name) for h in r.context["holders"]]
    assert holders == [("leader", "刘志强"), ("liaison", "陈晓东"), ("duty_officer", "张伟")]
    assert set(r.context["grantable"]) == {
        "coordinator",
        "leader",
        "liaison",
        "deputy_liaison",
        "duty_officer",
    }


def test_a_coordinator_grants_a_liaison_who_can_act_on_the_next_request(world, client_for):
    staff = world.people["staff"]
    them = client_for("staff")
    assert them.get("/org/units/HG-HZ-ZH/").status_code == 404
    r = grant(client_for("city_coord"), "HG-HZ-ZH", "liaison", staff)
    assert r.status_code == 302
    assert list(world.units["HG-HZ-ZH"].liaisons.all()) == [staff]
    assert them.get("/org/units/HG-HZ-ZH/").status_code == 200  # the same session, next request
    event = AuditEvent.objects.filter(action="unit.responsibles").latest("pk")
    assert event.actor == world.users["city_coord"] and event.new["liaisons"] == [staff.pk]
    r = revoke(client_for("city_coord"), "HG-HZ-ZH", "liaison", staff.pk)
    assert r.status_code == 302
    assert them.get("/org/units/HG-HZ-ZH/").status_code == 404


def test_coordinator_roles_only_below_ones_own_unit(world, client_for):
    c = client_for("city_coord")
    liaison = world.people["county_liaison"]
    # No peer coordinators at one's own unit, and nothing above it or in another city.
    assert grant(c, "HG", "coordinator", world.people["city_coord"]).status_code == 404
    assert grant(c, "HB", "liaison", world.people["prov_coord"]).status_code == 404
    assert grant(c, "XG-XN", "liaison", world.people["xn_clerk"]).status_code == 404
    assert grant(c, "HG-HZ", "admin", liaison).status_code == 404
    assert grant(c, "HG-HZ", "auditor", liaison).status_code == 404
    assert not RoleAssignment.objects.filter(user=liaison.user).exists()
    assert grant(c, "HG-HZ", "coordinator", liaison).status_code == 302
    assert RoleAssignment.objects.filter(
        user=liaison.user, role="coordinator", unit=world.units["HG-HZ"]
    ).exists()
    # The city coordinator cannot take the city's own coordinators away (it is their level).
    own = RoleAssignment.objects.get(user=world.users["city_coord"])
    assert revoke(c, "HG", "coordinator", own.pk).status_code == 404
    assert RoleAssignment.objects.filter(pk=own.pk).exists()


def test_a_grantee_must_be_in_post_in_the_units_subtree(world, client_for):
    from fangkong.accounts.forms import ERR_GRANTEE

    c = client_for("city_coord")
    r = grant(c, "HG-HZ", "liaison", world.people["mc_clerk"])  # 麻城, a sibling county
    assert r.status_code == 200
    assert r.context["form"].errors["person"] == [ERR_GRANTEE]
    assert list(world.units["HG-HZ"].liaisons.all()) == [world.people["county_liaison"]]


def test_roles_held_by_a_login_need_an_account(world, client_for):
    from fangkong.org import services as org

    clerk = org.person_create(
        actor=world.users["admin"], unit=world.units["HG-HZ"], name="吴芳", mobile="13900001111"
    )
    r = grant(client_for("city_coord"), "HG-HZ", "duty_officer", clerk)
    assert r.status_code == 200
    assert r.context["form"].non_field_errors() == [
        services.ERR_ROLE_NO_ACCOUNT.format(name="吴芳")
    ]
    r = grant(client_for("city_coord"), "HG-HZ", "liaison", world.people["county_liaison"])
    assert r.context["form"].non_field_errors() == [
        services.ERR_ROLE_HELD.format(name="陈晓东", role="联络员")
    ]


def test_a_liaison_names_a_deputy_and_nothing_else(world, client_for):
    c = client_for("county_liaison")
    leader = world.people["leader"]
    r = c.get("/accounts/units/HG-HZ/roles/")
    assert r.status_code == 200 and set(r.context["grantable"]) == {"deputy_liaison"}
    assert grant(c, "HG-HZ", "duty_officer", leader).status_code == 404
    assert grant(c, "HG-HZ", "liaison", leader).status_code == 404
    assert c.get("/accounts/units/HG-HZ-ZH/roles/").status_code == 404  # not their unit
    assert grant(c, "HG-HZ", "deputy_liaison", leader).status_code == 302
    deputy = RoleAssignment.objects.get(role="deputy_liaison")
    assert deputy.user == leader.user and deputy.unit == world.units["HG-HZ"]
    # The deputy may now do the liaison's work: unmask identity numbers of the unit's people.
    r = client_for("leader").post(f"/org/people/{world.people['staff'].pk}/reveal/id_number/")
    assert r.status_code == 200
    assert revoke(c, "HG-HZ", "deputy_liaison", deputy.pk).status_code == 302
    r = client_for("leader").post(f"/org/people/{world.people['staff'].pk}/reveal/id_number/")
    assert r.status_code == 404


def test_a_revoked_role_narrows_the_holders_token_at_once(world, client_for):
    staff = world.users["staff"]
    c = client_for("city_coord")
    grant(c, "HG-MC", "duty_officer", world.people["mc_clerk"])  # no account: refused
    services.role_assign(
        actor=world.users["admin"], user=staff, role="duty_officer", unit=world.units["HG-MC"]
    )
    _, raw = account_services.token_create(actor=staff, user=staff, name="script")
    token = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert Client().get("/api/v1/units/HG-MC", **token).status_code == 200
    assignment = RoleAssignment.objects.get(user=staff, role="duty_officer")
    assert revoke(c, "HG-MC", "duty_officer", assignment.pk).status_code == 302
    assert Client().get("/api/v1/units/HG-MC", **token).status_code == 404
    event = AuditEvent.objects.get(action="role.revoke")
    assert event.actor == world.users["city_coord"]
    assert event.new == {"tokens_narrowed": 1}
    assert event.old == {"user": "staff", "role": "duty_officer", "unit": "HG-MC"}


def test_outsiders_change_nothing(world, client_for):
    events = AuditEvent.objects.count()
    before = (
        RoleAssignment.objects.count(),
        list(OrgUnit.objects.values_list("first_responsible_id", flat=True)),
    )
    outsider, staff = client_for("outsider"), client_for("staff")
    assert grant(outsider, "HG-HZ", "liaison", world.people["staff"]).status_code == 404
    assert revoke(outsider, "HG-HZ", "leader", world.people["leader"].pk).status_code == 404
    assert grant(staff, "HG-HZ-ZH", "liaison", world.people["staff"]).status_code == 404
    assert revoke(client_for("leader"), "HG-HZ", "liaison", 0).status_code == 404
    after = (
        RoleAssignment.objects.count(),
        list(OrgUnit.objects.values_list("first_responsible_id", flat=True)),
    )
    assert before == after
    assert AuditEvent.objects.count() == events
