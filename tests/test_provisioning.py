"""Accounts from the roster in bulk (accounts/provisioning.py): usernames, collisions, codes sent
through the outbox, re-runs, resuming a killed job, and what never reaches the logs."""

import re
from datetime import date, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.accounts import codes, provisioning
from fangkong.accounts.models import AccessCode, AccountBatch, User
from fangkong.audit.models import AuditEvent
from fangkong.notify.delivery import deliver_due
from fangkong.notify.models import Message
from fangkong.org import services as org
from fangkong.org.models import Person

T0 = timezone.make_aware(datetime(2020, 2, 3, 9, 0))
NEW_PASSWORD = "Mein-Passw0rt!2020"


@pytest.fixture
def frozen(clock):
    clock.freeze(T0)
    return clock


def add(world, unit, name, mobile="", **kw):
    return org.person_create(
        actor=world.users["admin"], unit=world.units[unit], name=name, mobile=mobile, **kw
    )


def run(world, unit="HG-HZ", delivery="sms", actor="city_coord") -> AccountBatch:
    return provisioning.account_batch_start(
        actor=world.users[actor], unit=world.units[unit], delivery=delivery
    )


def sms_codes(http_receiver) -> dict[str, str]:
    """mobile → activation code, from what the SMS gateway received."""
    deliver_due()
    found = {}
    for r in http_receiver.requests:
        m = re.search(r"激活码 ([0-9A-Z-]{14})", r["json"]["content"])
        if m:
            found[r["json"]["mobile"]] = m[1]
    return found


def activate(username, code, password=NEW_PASSWORD, client=None):
    c = client or Client()
    return c, c.post(
        "/accounts/activate/",
        {
            "username": username,
            "code": code,
            "new_password1": password,
            "new_password2": password,
        },
    )


def test_everyone_in_post_without_an_account_gets_one(world, frozen, http_receiver):
    a = add(world, "HG-HZ", "吴芳", "13900001111")
    b = add(world, "HG-HZ-ZH", "郑强", "13900002222")
    nomobile = add(world, "HG-HZ-ZH", "王五")
    add(world, "HG-HZ", "已离职", "13900003333", left_on=date(2020, 1, 31))
    add(world, "HG-HZ", "未入职", "13900004444", active_from=date(2020, 3, 1))
    outside = add(world, "HG-MC", "麻城人", "13900005555")
    batch = run(world)
    assert batch.status == "done" and batch.progress == 100
    # In post: leader, liaison, staff (with accounts) and the three new people.
    assert batch.counts == {
        "people": 6,
        "had_account": 3,
        "created": 3,
        "sms": 2,
        "reissued": 0,
    }
    for p in (a, b, nomobile):
        p.refresh_from_db()
    assert a.user.username == "13900001111" and b.user.username == "13900002222"
    assert nomobile.user.username == f"fk{nomobile.pk:06d}"  # no mobile: a printed slip only
    assert not a.user.has_usable_password()
    outside.refresh_from_db()
    assert outside.user is None
    assert not User.objects.filter(username__in=["13900003333", "13900004444"]).exists()
    sent = sms_codes(http_receiver)
    assert set(sent) == {"13900001111", "13900002222"}
    assert (
        "http://127.0.0.1:8000/accounts/activate/" in http_receiver.requests[0]["json"]["content"]
    )
    # The codes are stored only as HMACs, sent SMS bodies are emptied, and no log holds a code.
    for code in sent.values():
        assert AccessCode.objects.filter(code_hash=codes.code_hash(code)).exists()
        assert not AccessCode.objects.filter(code_hash__contains=code.replace("-", "")).exists()
        for event in AuditEvent.objects.all():
            assert code not in str(event.new) + str(event.old) + event.detail + event.object_repr
    assert set(
        Message.objects.filter(kind="account.activation").values_list("body", flat=True)
    ) == {""}
    # One audit event per account, by the coordinator, in the batch; the username (a mobile
    # number) masked, as everywhere in the audit trail.
    created = AuditEvent.objects.filter(action="user.create", actor=world.users["city_coord"])
    assert created.count() == 3
    assert created.get(object_id=str(a.user_id)).new == {
        "person": a.pk,
        "batch": batch.pk,
        "delivery": "sms",
        "username": "139****1111",
    }
    assert AuditEvent.objects.filter(action="accounts.batch_done").get().new["created"] == 3


def test_a_person_activates_with_the_code_and_signs_in(world, frozen, http_receiver):
    p = add(world, "HG-HZ", "吴芳", "13900001111")
    run(world)
    code = sms_codes(http_receiver)["13900001111"]
    c, r = activate("13900001111", code.lower().replace("-", " "))  # typed loosely
    assert r.status_code == 302 and r["Location"] == "/"
    assert "吴芳" in c.get("/").content.decode()
    p.refresh_from_db()
    assert p.user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="user.activate", actor=p.user).get().new == {
        "channel": "sms"
    }
    # Single use.
    _, r = activate("13900001111", code)
    assert r.status_code == 200
    assert r.context["form"].non_field_errors() == [provisioning_err("ERR_ACTIVATION_USED")]


def provisioning_err(name):
    from fangkong.accounts import services

    return getattr(services, name)


def test_activation_refuses_a_wrong_expired_or_someone_elses_code(world, frozen, http_receiver):
    add(world, "HG-HZ", "吴芳", "13900001111")
    add(world, "HG-HZ", "郑强", "13900002222")
    run(world)
    sent = sms_codes(http_receiver)
    _, r = activate("13900001111", sent["13900002222"])
    assert r.context["form"].non_field_errors() == [provisioning_err("ERR_ACTIVATION_INVALID")]
    _, r = activate("13900001111", "AAAA-BBBB-CCCC")
    assert r.context["form"].non_field_errors() == [provisioning_err("ERR_ACTIVATION_INVALID")]
    _, r = activate("13900001111", sent["13900001111"], password="short")
    assert r.status_code == 200 and r.context["form"].errors["new_password1"]
    frozen.advance(timedelta(days=14))
    _, r = activate("13900001111", sent["13900001111"])
    assert r.context["form"].non_field_errors() == [provisioning_err("ERR_ACTIVATION_EXPIRED")]


def test_guessing_codes_is_slowed_like_passwords(world, frozen, http_receiver):
    from django.conf import settings

    from fangkong.accounts import throttle

    add(world, "HG-HZ", "吴芳", "13900001111")
    run(world)
    code = sms_codes(http_receiver)["13900001111"]
    for i in range(settings.SIGNIN_ACCOUNT_FREE):
        _, r = activate("13900001111", f"AAAA-BBBB-CC{i:02d}")
        assert r.status_code == 200
    _, r = activate("13900001111", code)
    assert r.status_code == 429
    assert r.context["form"].non_field_errors() == [throttle.ERR_ACCOUNT_WAIT.format(wait="1 分钟")]
    frozen.advance(timedelta(minutes=1))
    _, r = activate("13900001111", code)
    assert r.status_code == 302


def test_duplicate_mobiles_and_taken_usernames_are_reported(world, frozen, http_receiver):
    twin1 = add(world, "HG-HZ", "双胞甲", "13900007777")
    twin2 = add(world, "HG-HZ-ZH", "双胞乙", "13900007777")
    elsewhere = add(world, "XG", "外市同号", "13900008888")
    mine = add(world, "HG-HZ", "本局同号", "13900008888")
    User.objects.create_user("13900009999")
    squatted = add(world, "HG-HZ", "号被占用", "13900009999")
    batch = run(world)
    problems = {(p["person"], p["kind"], p["detail"]) for p in batch.problems}
    assert problems == {
        ("双胞甲", "duplicate_mobile", "139****7777"),
        ("双胞乙", "duplicate_mobile", "139****7777"),
        ("本局同号", "duplicate_mobile", "139****8888"),
        ("号被占用", "username_taken", "139****9999"),
    }
    for p in (twin1, twin2, mine, squatted, elsewhere):
        p.refresh_from_db()
        assert p.user is None
    assert provisioning.problem_text(batch.problems[0]) == provisioning.PROBLEMS[
        "duplicate_mobile"
    ].format(detail="139****7777")
    assert sms_codes(http_receiver) == {}


def test_usernames_by_staff_number(world, frozen, settings, http_receiver):
    settings.ACCOUNT_USERNAME_RULE = "staff_number"
    a = add(world, "HG-HZ", "吴芳", "13900001111", staff_number="HZ0007")
    b = add(world, "HG-HZ", "郑强", "13900002222")
    run(world)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.user.username == "HZ0007" and b.user.username == f"fk{b.pk:06d}"
    # The SMS names the username to type.
    deliver_due()
    texts = sorted(r["json"]["content"] for r in http_receiver.requests)
    assert "用户名 HZ0007，" in texts[0] and f"用户名 fk{b.pk:06d}，" in texts[1]


def test_running_again_creates_only_what_is_missing(world, frozen, http_receiver):
    add(world, "HG-HZ", "吴芳", "13900001111")
    run(world)
    users = User.objects.count()
    sms_codes(http_receiver)
    again = run(world)
    assert again.counts["created"] == 0 and again.counts["sms"] == 0
    assert User.objects.count() == users
    add(world, "HG-HZ", "新来的", "13900006666")
    third = run(world)
    assert third.counts["created"] == 1 and third.counts["sms"] == 1
    assert Person.objects.get(name="新来的").user.username == "13900006666"


def test_an_expired_code_is_sent_again_and_replaces_the_old_one(world, frozen, http_receiver):
    add(world, "HG-HZ", "吴芳", "13900001111")
    run(world)
    first = sms_codes(http_receiver)["13900001111"]
    frozen.advance(timedelta(days=15))
    again = run(world)
    assert again.counts["reissued"] == 1 and again.counts["sms"] == 1
    second = sms_codes(http_receiver)["13900001111"]
    assert second != first
    assert AuditEvent.objects.filter(action="user.activation_reissue").count() == 1
    _, r = activate("13900001111", first)
    assert r.status_code == 200
    _, r = activate("13900001111", second)
    assert r.status_code == 302


def test_a_leaver_cannot_activate(world, frozen, http_receiver):
    from fangkong.accounts.selectors import ERR_LEFT

    p = add(world, "HG-HZ", "吴芳", "13900001111")
    run(world)
    code = sms_codes(http_receiver)["13900001111"]
    org.person_update(actor=world.users["admin"], person=p, left_on=T0.date())
    _, r = activate("13900001111", code)
    assert r.context["form"].non_field_errors() == [ERR_LEFT.format(day="2020-02-03")]


def test_a_large_subtree_runs_in_the_worker_and_resumes_after_a_kill(
    world, frozen, settings, monkeypatch
):
    settings.ACCOUNT_BATCH_INLINE = 1
    monkeypatch.setattr(provisioning, "CHUNK", 2)
    queued = []
    monkeypatch.setattr(
        "fangkong.accounts.tasks.run_account_batch", lambda batch_id: queued.append(batch_id)
    )
    for i in range(5):
        add(world, "HG-HZ", f"职工{i}", f"1390000{i:04d}")
    with pytest.MonkeyPatch.context() as m:
        from django.db import transaction

        m.setattr(transaction, "on_commit", lambda fn, **kw: fn())
        batch = run(world, delivery="slip")
    assert queued == [batch.pk] and batch.status == "queued"
    # The worker dies after its first chunk: the chunk stays, the batch stays "running".
    calls = {"n": 0}
    real = provisioning._write_chunk

    def dies(*args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("kill -9")
        return real(*args)

    monkeypatch.setattr(provisioning, "_write_chunk", dies)
    with pytest.raises(SystemExit):
        provisioning.account_batch_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == "running" and batch.done == 2 and batch.progress == 40
    assert User.objects.filter(username__startswith="1390000").count() == 2
    # A second worker cannot take it while the lease holds; after it, the job resumes.
    monkeypatch.setattr(provisioning, "_write_chunk", real)
    assert provisioning.account_batch_run(batch_id=batch.pk).status == "running"
    assert provisioning.resumable_batches() == []
    frozen.advance(provisioning.BATCH_LEASE + timedelta(seconds=1))
    from fangkong.accounts.tasks import resume_account_batches

    assert resume_account_batches.call_local() == 1
    batch.refresh_from_db()
    assert batch.status == "done" and batch.counts["created"] == 5
    assert User.objects.filter(username__startswith="1390000").count() == 5
    assert AuditEvent.objects.filter(action="user.create", new__batch=batch.pk).count() == 5


# --- Pages and slips. ---


def pdf_text(pdf: bytes, tmp_path) -> str:
    """The text of a PDF through poppler's pdftotext (installed with the browser tests' tools)."""
    import os
    import shutil
    import subprocess

    if not shutil.which("pdftotext"):
        if os.environ.get("CI") == "true":
            pytest.fail("pdftotext is missing in CI: apt-get install poppler-utils")
        pytest.skip("pdftotext not installed (apt-get install poppler-utils)")
    path = tmp_path / "slips.pdf"
    path.write_bytes(pdf)
    tool = shutil.which("pdftotext")
    return subprocess.run(  # noqa: S603 - our own file through poppler
        [tool, "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def test_the_unit_page_opens_accounts_and_shows_how_many_can_sign_in(
    world, frozen, client_for, http_receiver
):
    add(world, "HG-HZ", "吴芳", "13900001111")
    add(world, "HG-HZ-ZH", "王五")
    c = client_for("city_coord")
    r = c.get("/accounts/units/HG-HZ/")
    assert r.status_code == 200
    assert r.context["summary"] == {
        "people": 5,
        "no_account": 2,
        "activated": 3,
        "by_sms": 0,
        "waiting_slip": 0,
    }
    r = c.post("/accounts/units/HG-HZ/", {"delivery": "sms"})
    batch = AccountBatch.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/accounts/batches/{batch.pk}/"
    page = c.get(r["Location"])
    assert page.status_code == 200 and page.context["batch"].status == "done"
    assert page.context["summary"]["by_sms"] == 1 and page.context["summary"]["waiting_slip"] == 1
    assert c.get(f"/accounts/batches/{batch.pk}/progress/").status_code == 302
    assert c.post("/accounts/units/HG-HZ/", {"delivery": "fax"}).status_code == 200


def test_slips_carry_working_codes_and_a_reprint_replaces_them(world, frozen, client_for, tmp_path):
    add(world, "HG-HZ", "吴芳", "13900001111")
    nomobile = add(world, "HG-HZ-ZH", "王五")
    run(world, delivery="slip")
    c = client_for("city_coord")
    r = c.post("/accounts/units/HG-HZ/slips.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert "attachment" in r["Content-Disposition"] and r["Cache-Control"] == "no-store"
    pdf = b"".join(r.streaming_content)
    text = pdf_text(pdf, tmp_path)
    assert "吴芳" in text and "王五" in text and "黄州区审计局" in text
    assert "http://127.0.0.1:8000/accounts/activate/" in text
    codes_printed = re.findall(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", text)
    assert len(codes_printed) == 2, text
    event = AuditEvent.objects.get(action="accounts.slips")
    assert event.new["slips"] == 2
    for code in codes_printed:
        assert code not in str(event.new)
    # Printing again gives new codes; the first sheet stops working.
    again = pdf_text(
        b"".join(c.post("/accounts/units/HG-HZ/slips.pdf").streaming_content), tmp_path
    )
    new_codes = re.findall(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", again)
    assert set(new_codes).isdisjoint(codes_printed)
    username = f"fk{nomobile.pk:06d}"
    old = next(
        code
        for code in codes_printed
        if AccessCode.objects.get(code_hash=codes.code_hash(code)).user.username == username
    )
    new = next(
        code
        for code in new_codes
        if AccessCode.objects.get(code_hash=codes.code_hash(code)).user.username == username
    )
    _, r = activate(username, old)
    assert r.context["form"].non_field_errors() == [provisioning_err("ERR_ACTIVATION_REPLACED")]
    _, r = activate(username, new)
    assert r.status_code == 302
    # Activated accounts need no slip any more.
    third = pdf_text(
        b"".join(c.post("/accounts/units/HG-HZ/slips.pdf").streaming_content), tmp_path
    )
    assert "王五" not in third and "吴芳" in third


def test_slips_are_refused_when_there_are_none_or_too_many(world, frozen, client_for, settings):
    from fangkong.accounts import slips

    c = client_for("city_coord")
    r = c.post("/accounts/units/HG-HZ/slips.pdf", follow=True)
    assert [str(m) for m in r.context["messages"]] == [slips.ERR_NO_SLIPS]
    for i in range(3):
        add(world, "HG-HZ", f"职工{i}")
    run(world, delivery="slip")
    settings.ACCOUNT_SLIPS_MAX = 2
    r = c.post("/accounts/units/HG-HZ/slips.pdf", follow=True)
    assert [str(m) for m in r.context["messages"]] == [
        slips.ERR_TOO_MANY_SLIPS.format(n=3, limit=2)
    ]
    assert not AccessCode.objects.exists()


def test_a_running_batch_shows_its_progress(world, frozen, client_for):
    batch = provisioning.account_batch_create(
        actor=world.users["city_coord"], unit=world.units["HG"], delivery="sms"
    )
    AccountBatch.objects.filter(pk=batch.pk).update(status="running", total=400, done=100)
    c = client_for("city_coord")
    page = c.get(f"/accounts/batches/{batch.pk}/").content.decode()
    assert f'hx-get="/accounts/batches/{batch.pk}/progress/"' in page
    part = c.get(f"/accounts/batches/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    assert part.status_code == 200
    assert '<progress max="100" value="25"' in part.content.decode()
    assert "已处理 100 / 400 人（25%）" in part.content.decode()
    AccountBatch.objects.filter(pk=batch.pk).update(status="done")
    done = c.get(f"/accounts/batches/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    assert done.status_code == 200 and done["HX-Refresh"] == "true"
