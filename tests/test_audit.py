"""The audit trail is written with every service write, records views of personal data, and cannot be edited."""

import pytest
from django.db import DatabaseError, connection, transaction

from fangkong.audit.models import AuditEvent
from fangkong.org import services


def test_writes_carry_old_and_new_values(world):
    person = world.people["staff"]
    services.person_update(actor=world.users["admin"], person=person, post="副科长")
    event = AuditEvent.objects.filter(action="person.update", object_id=str(person.pk)).latest("id")
    assert event.old == {"post": "科员"} and event.new == {"post": "副科长"}
    assert event.actor_name == "admin"


def test_a_failed_write_leaves_no_event(world):
    from datetime import date

    from django.core.exceptions import ValidationError

    from fangkong.lib import idcard

    number = idcard.make("420105", date(1990, 1, 2), 77)
    before = AuditEvent.objects.count()
    services.person_create(
        actor=world.users["admin"], unit=world.units["HG"], name="甲", id_number=number
    )
    with pytest.raises(ValidationError):
        services.person_create(
            actor=world.users["admin"], unit=world.units["HG"], name="乙", id_number=number
        )
    assert AuditEvent.objects.count() == before + 1


def test_reveal_is_logged_with_ip(world, client_for):
    c = client_for("county_liaison")
    r = c.post(f"/org/people/{world.people['staff'].pk}/reveal/id_number/", REMOTE_ADDR="10.1.2.3")
    assert r.status_code == 200
    event = AuditEvent.objects.get(action="person.reveal_id")
    assert event.actor_name == "county_liaison" and event.ip == "10.1.2.3"
    assert event.object_id == str(world.people["staff"].pk)


def test_masked_everywhere_by_default(world, client_for):
    from fangkong.lib import crypto

    full = crypto.decrypt(world.people["staff"].id_number_encrypted)
    for path in [
        f"/org/people/{world.people['staff'].pk}/",
        "/org/units/HG-HZ-ZH/",
        f"/api/v1/people/{world.people['staff'].pk}",
        "/api/v1/units/HG-HZ-ZH/people",
    ]:
        body = client_for("county_liaison").get(path).content.decode()
        assert full not in body and world.people["staff"].mobile not in body, path
        assert world.people["staff"].id_number_masked in body, path


def test_events_cannot_be_updated_in_the_database(world):
    event = AuditEvent.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE audit_auditevent SET action = 'forged' WHERE id = %s", [event.pk])
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="DELETE trigger is PostgreSQL-only")
def test_events_cannot_be_deleted_in_postgresql(world):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM audit_auditevent")


def test_admin_can_filter_the_trail(world, client_for):
    r = client_for("admin").get("/audit/?action=unit.create")
    body = r.content.decode()
    # The rows are the units' creations only (every action's code is among the filter's options).
    shown = list(r.context["page"])
    assert shown and {e.action for e in shown} == {"unit.create"}
    assert "黄州区审计局" in body and "<code>person.create</code>" not in body
    assert "新建单位" in body  # the registry's label beside the code
