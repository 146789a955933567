"""A world whose every user-set text is hostile, for the browser walk of every page.

`build_hostile_world` adds, through the real services, the objects a user fills text into
(a unit imported through the roster by a liaison, people, check-ins and follow-up notes,
reports, reviews, unlocks, notices with attachments, education posts, display links, tokens,
a relief ledger with hostile donors and file name, findings and notes; accounts opened from the
roster with collisions, a role granted, leading-group seats, a household's additions and
move-outs, a platform sign-in waiting for confirmation and a refused one), then `poison` writes a
hostile value into every field of `HOSTILE_FIELDS` that does not hold one yet. Inputs that check
text (forms, the roster) get `typed` values, without U+202E, which they refuse; services and
`poison` store U+202E as data from before that rule would hold it.
`NOT_USER_TEXT` says why each other text field is left alone; tests/test_rollup_hostile.py fails
when a model grows a text field that is in neither.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.apps import apps

from tests.hostile import IMG, SVG, hostile, typed

DAY = date(2020, 2, 3)
NOW = datetime.combine(DAY, time(11, 0), tzinfo=ZoneInfo("Asia/Shanghai"))
# Codes are letters, digits, Chinese characters and - _ . (org.models.UNIT_CODE_PATTERN): the
# liaison's import uses all of them. A unit from before that rule keeps markup in its code.
UNIT_CODE = "HZ-下属_1.a"
DIVISION_CODE = "HZ-" + SVG

HOSTILE_FIELDS = {
    "accounts.User": ["first_name", "last_name", "email"],
    "accounts.ApiToken": ["name"],
    "org.OrgUnit": ["name", "short_name"],
    "org.ReportingLine": ["name"],
    "org.Person": ["name", "post", "staff_number"],
    "org.FamilyMember": ["name"],
    "org.LeadingGroupSeat": ["duty", "phone"],
    "org.RosterUpload": ["original_name"],
    "health.CheckIn": ["symptom_other", "quarantine_place", "current_city", "correction_reason"],
    "health.FollowUpEntry": ["note"],
    "health.Exemption": ["note"],
    "reports.ReportForm": ["name"],
    "reports.Review": ["comment", "missing_children_reason"],
    "reports.Unlock": ["reason"],
    "reports.SignalReview": ["note"],
    "notify.Message": ["address", "subject", "body", "last_error"],
    "screen.EducationPost": ["title", "body", "source"],
    "screen.DisplayLink": ["name"],
    "notices.Notice": ["title", "body"],
    "notices.NoticeAttachment": ["name"],
    "relief.AuditProject": ["name", "scope", "bodies"],
    "relief.SourceFile": ["name", "body"],
    "relief.LedgerImport": ["title", "message"],
    "relief.ColumnSynonym": ["header"],
    "relief.Party": ["name", "note"],
    "relief.PartyName": ["raw"],
    "relief.Item": ["name", "standard"],
    "relief.ItemName": ["raw"],
    "relief.Finding": ["title", "description", "rule", "reason"],
    "relief.Evidence": ["sheet", "note"],
    "relief.FindingNote": ["text"],
    "relief.CatalogueRun": ["message"],
}

NOT_USER_TEXT = {
    "accounts.User.password": "a hash",
    "accounts.User.username": "personas keep theirs to sign in; a user named with markup is added",
    "accounts.ApiToken.prefix": "generated",
    "accounts.ApiToken.key_hash": "generated",
    "audit.AuditEvent.*": "append-only; written from the objects' names by the build's actions",
    "org.UnitLevel.*": "reference data (fangkong/org/reference.py)",
    "org.Rank.*": "reference data (fangkong/org/reference.py)",
    "org.OrgUnit.code": "validated (org.models.UNIT_CODE_PATTERN); a unit from before the rule "
    "has markup in its code (DIVISION_CODE)",
    "org.OrgUnit.path": "derived from primary keys",
    "org.Person.mobile": "digits only (validated)",
    "org.Person.id_number_encrypted": "a checked ID number, encrypted",
    "org.Person.id_number_hash": "an HMAC",
    "org.Person.id_number_masked": "derived from a checked ID number",
    "org.FamilyMember.mobile": "digits only (validated)",
    "org.RosterUpload.sha256": "generated",
    "health.IdempotencyRecord.key": "a client's retry key, never shown",
    "jobs.JobLease.*": "job names and holders written by the workers, never by users",
    "accounts.AccessCode.code_hash": "an HMAC",
    "accounts.AccessCode.binding": "a hash binding a code to the browser that asked for it",
    "accounts.AccountBatch.error": "written by the account job, never by users",
    "accounts.AccountBatch.username_rule": "a choice among fixed rules",
    "accounts.ThrottleEvent.*": "sign-in attempts recorded by the backend, never shown",
    "health.IdempotencyRecord.request_hash": "a SHA-256",
    "reports.ReportForm.code": "a slug set by administrators",
    "reports.Report.*": "immutable hash-chained versions: the build submits them with markup",
    "reports.SignalReview.signal": "a code of the signal list",
    "reports.Dhis2Mapping.*": "identifiers of another system, set by administrators",
    "notify.Message.key": "generated",
    "notify.Message.kind": "a code",
    "screen.DisplayLink.token_hash": "a hash",
    "notices.NoticeAttachment.sha256": "generated",
    "relief.SourceFile.sha256": "generated",
    "relief.LedgerImport.sheet": "read from the file (the hostile ledger brings its own)",
    "relief.LedgerImport.kind": "a code",
    "relief.LedgerImport.parquet": "a server path",
    "relief.ColumnSynonym.field": "a field name of relief/ledger/schema.py",
    "relief.PartyName.key": "a normalised matching key",
    "relief.ItemName.key": "a normalised matching key",
    "relief.Item.base_uom": "matched against ledger units (changing it changes the figures)",
    "relief.UnitConversion.uom": "matched against ledger units (changing it changes the figures)",
    "relief.Finding.test_id": "a catalogue code",
    "relief.Finding.fingerprint": "generated",
    "relief.CatalogueRun.snapshot": "generated",
    "relief.CatalogueRun.status": "a code",
}


@dataclass
class Hostile:
    """What the walk needs to build its URLs."""

    form: object = None
    reports: list = field(default_factory=list)
    checkins: list = field(default_factory=list)
    cases: list = field(default_factory=list)
    notice: object = None
    messages: list = field(default_factory=list)
    display_token: str = ""
    upload: object = None
    unit: object = None
    person: object = None
    relief_import: object = None
    party: object = None
    item: object = None
    finding: object = None
    run: object = None
    row_id: int = 0
    donation_ref: str = ""
    batch: object = None
    seat: object = None
    sso_login: str = ""  # where an anonymous visitor starts the platform sign-in that ends on
    # the confirmation page (the local platforms of tests/platforms.py)


def _csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def build_hostile_world(w, rw, tmp_path: Path, platforms) -> Hostile:
    """Add hostile objects to the tests/world.py world `w` and the relief world `rw`;
    `platforms` (tests/platforms.py) gets a platform user whose first sign-in awaits confirmation."""
    from fangkong.accounts import services as accounts
    from fangkong.accounts.models import User
    from fangkong.health import services as health
    from fangkong.health.models import CheckIn, FollowUpCase
    from fangkong.lib import idcard
    from fangkong.notices import services as notices
    from fangkong.notify.models import Message
    from fangkong.notify.services import message_enqueue
    from fangkong.org import services as org
    from fangkong.org.models import OrgUnit, Person, Role, UnitLevel
    from fangkong.relief import services as relief
    from fangkong.relief.models import CatalogueRun, Item
    from fangkong.reports import services as reports
    from fangkong.reports.models import ReportForm
    from fangkong.screen import services as screen
    from tests.relief_cases_findings import first_row
    from tests.relief_cases_trace import ref
    from tests.world import PASSWORD

    h = Hostile()
    admin, coord = w.users["admin"], w.users["city_coord"]
    liaison, staff = w.users["county_liaison"], w.users["staff"]

    # A liaison imports a unit and a person with markup in their names (the attack).
    units = _csv(
        [
            ["单位编码", "单位名称", "简称", "上级单位", "层级", "启用日期", "撤销日期"],
            [UNIT_CODE, typed("下属单位", 100), typed("简", 40), "HG-HZ", "处室", "", ""],
        ]
    )
    upload = org.roster_upload_create(actor=liaison, name=typed("名册", 200) + ".csv", data=units)
    upload, _ = org.roster_import_apply(actor=liaison, upload=upload)
    assert upload.status == upload.Status.APPLIED, upload.summary
    people = _csv(
        [
            ["姓名", "单位", "职务", "职级", "手机号码", "身份证号"],
            [
                typed("职工", 50),
                "HG-HZ",
                typed("职务", 60),
                "科员及以下",
                "13900001234",
                idcard.make("421102", date(1990, 5, 6), 777),
            ],
        ]
    )
    h.upload = org.roster_upload_create(actor=liaison, name=hostile("人员", 200), data=people)
    h.unit = OrgUnit.objects.get(code=UNIT_CODE)
    division = org.unit_create(
        actor=admin,
        code="HZ-KS",
        name=hostile("科室", 100),
        level=UnitLevel.objects.get(code="division"),
        parent=w.units["HG"],
    )
    OrgUnit.objects.filter(pk=division.pk).update(code=DIVISION_CODE)  # as before the code rule
    h.person = org.person_create(
        actor=admin,
        unit=w.units["HG-HZ"],
        name=hostile("张", 50),
        rank=w.people["staff"].rank,
        post=hostile("岗", 60),
        mobile="13900005678",
        id_number=idcard.make("421102", date(1988, 1, 2), 778),
    )
    org.family_member_add(actor=admin, person=h.person, name=hostile("家属", 50), relation="spouse")
    marked = User.objects.create_user(hostile("用户", 150), password=PASSWORD)
    org.role_assign(actor=admin, user=marked, role=Role.COORDINATOR, unit=w.units["HG"])
    for user in (staff, coord, marked):
        accounts.token_create(actor=user, user=user, name=hostile("令牌", 100))

    # The day: check-ins with free text (one abnormal, so a follow-up case opens), the reports.
    h.form = ReportForm.objects.create(
        code="daily", name=hostile("日报", 100), root=w.units["HB"], active_from=date(2020, 1, 1)
    )
    h.form.levels.set(UnitLevel.objects.filter(code__in=["province", "city", "county"]))
    h.form.fields[0]["label"] = hostile("指标", 60)
    h.form.save(update_fields=["fields"])
    for person, actor in ((w.people["staff"], staff), (h.person, liaison)):
        health.checkin_submit(
            actor=actor,
            person=person,
            channel="web",
            answers=[
                health.Answers(
                    temperature=Decimal("38.6"),
                    symptoms=["fever", "other"],
                    symptom_other=hostile("症状", 100),
                    quarantine="home",
                    quarantine_place=hostile("地点", 100),
                    quarantine_start=DAY,
                    work_mode="home_post",
                    current_city=hostile("城市", 50),
                    attested=True,
                )
            ],
        )
    h.checkins = list(CheckIn.objects.order_by("pk"))
    h.cases = list(FollowUpCase.objects.order_by("pk"))
    for case in h.cases:
        health.case_update(
            actor=liaison, case=case, to_status=case.status, note=hostile("跟踪记录", 300)
        )
    health.exemption_add(
        actor=liaison, person=h.person, kind="long_leave", start=DAY, note=hostile("请假", 200)
    )
    text = {
        "explanation": hostile("说明", 300),
        "narrative": hostile("情况", 300),
        "measures": hostile("措施", 300),
    }
    hz = reports.report_submit(
        actor=liaison,
        form=h.form,
        unit=w.units["HG-HZ"],
        day=DAY,
        kind="daily",
        values=dict.fromkeys(h.form.field_keys, 1),
        **text,
    )
    reports.report_review(actor=coord, report=hz, action="return", comment=hostile("退回", 300))
    h.reports = [hz]
    reports.unlock_grant(
        actor=coord,
        form=h.form,
        unit=w.units["HG-MC"],
        day=date(2020, 2, 2),
        reason=hostile("解锁", 300),
    )
    reports.signal_mark_reviewed(
        actor=coord,
        form=h.form,
        unit=w.units["HG-HZ"],
        day=DAY,
        signal="below_derived",
        note=hostile("核查", 300),
    )

    # Notices with an attachment, posts, display links.
    h.notice = notices.notice_publish(
        actor=coord,
        unit=w.units["HG"],
        title=hostile("通知", 200),
        body=hostile("正文", 2000),
        kind="notice",
        audiences=["liaison", "leader", "staff"],
        files=[(hostile("附件", 190) + ".txt", b"hello")],
    )
    screen.post_create(
        actor=marked,
        title=hostile("宣教", 60),
        body=hostile("内容", 300),
        source=hostile("来源", 60),
        unit=w.units["HG"],
    )
    _link, h.display_token = screen.display_link_create(
        actor=coord, node=w.units["HG"], form=h.form, name=hostile("屏幕", 60)
    )
    h.messages = list(Message.objects.filter(user=staff).order_by("pk"))
    # An email that failed for good, so the outbox lists it with its address and error.
    failed, _new = message_enqueue(
        key="hostile-email",
        kind="notice",
        channel="email",
        subject=hostile("主题", 200),
        body=hostile("邮件", 500),
        address=hostile("地址", 200),
    )
    Message.objects.filter(pk=failed.pk).update(
        status="failed", attempts=5, last_error=hostile("错误", 300)
    )

    # Relief: a ledger whose donors, receipt numbers and file name are markup; findings, notes.
    auditor = rw.users["auditor"]
    folder = tmp_path / "hostile-ledger"
    folder.mkdir()
    ledger = folder / ("捐款登记" + IMG + ".csv")
    rows = [["收据编号", "日期", "捐赠方", "金额"]]
    rows += [[f"H{i}", f"2020/2/{i}", hostile(f"捐赠方{i}", 60), f"{i}00"] for i in range(1, 5)]
    ledger.write_bytes(_csv(rows))
    (h.relief_import,) = relief.path_import(actor=auditor, project=rw.project, path=ledger)
    relief.synonym_add(actor=auditor, project=rw.project, header=hostile("列", 100), field="amount")
    row = first_row(rw)
    h.finding = relief.finding_add(
        actor=auditor,
        project=rw.project,
        title=hostile("问题", 300),
        severity="high",
        description=hostile("描述", 500),
        rule=hostile("依据", 500),
        amount_fen=100,
        evidence=[
            {
                "source_id": row["file_id"],
                "sheet": row["sheet"],
                "row_no": row["row_no"],
                "row_id": row["row_id"],
                "note": hostile("证据", 300),
            }
        ],
    )
    relief.finding_annotate(actor=auditor, finding=h.finding, text=hostile("备注", 500))
    dismissed = relief.finding_add(
        actor=auditor, project=rw.project, title=hostile("排除", 300), severity="low"
    )
    relief.finding_decide(
        actor=auditor, finding=dismissed, status="dismissed", reason=hostile("理由", 300)
    )
    h.run = CatalogueRun.objects.create(
        project=rw.project,
        tests=["PAY-DUP-INVOICE"],
        parameters={},
        snapshot="x",
        status="failed",
        message=hostile("失败", 300),
        started_by=auditor,
    )
    _people_pages(h, w, platforms)
    h.row_id = row["row_id"]
    h.donation_ref = ref(rw)
    h.party = rw.project.parties.order_by("-pk").first()
    h.item = Item.objects.filter(project=rw.project).order_by("pk").first()
    poison()
    for name in ("person", "unit", "party", "item", "finding", "notice", "form"):
        getattr(h, name).refresh_from_db()
    assert Person.objects.filter(name__contains="<").count() == Person.objects.count()
    return h


def _people_pages(h: Hostile, w, platforms) -> None:
    """Accounts from the roster, roles, the leading group, a household, platform sign-in."""
    from fangkong.accounts import provisioning
    from fangkong.accounts.models import User
    from fangkong.lib import idcard
    from fangkong.org import services as org
    from fangkong.org.models import GroupRole, Role
    from fangkong.sso import services as sso

    admin, coord, staff = w.users["admin"], w.users["city_coord"], w.users["staff"]
    hz = w.units["HG-HZ"]
    rank = w.people["staff"].rank

    def person(tag, unit, mobile, seq):
        return org.person_create(
            actor=admin,
            unit=unit,
            name=hostile(tag, 50),
            rank=rank,
            post=hostile(tag + "岗", 60),
            mobile=mobile,
            id_number=idcard.make("421102", date(1991, 7, 8), seq),
        )

    # Two people sharing a mobile and one whose username is taken: the batch names all three.
    twins = [person("同号甲", hz, "13900009999", 779), person("同号乙", h.unit, "13900009999", 780)]
    User.objects.create_user("13900007777", password=None)
    person("重名", h.unit, "13900007777", 781)
    h.batch = provisioning.account_batch_start(actor=coord, unit=hz, delivery="sms")
    assert h.batch.status == h.batch.Status.DONE and len(h.batch.problems) == 3, h.batch.problems
    h.person.refresh_from_db()
    org.role_grant(actor=coord, unit=hz, role=Role.DUTY_OFFICER, person=h.person)

    # The leading group: a 组长 with a hostile duty and phone, a member whose seat has ended.
    start = DAY - timedelta(days=20)
    h.seat = org.leading_group_appoint(
        actor=coord,
        unit=hz,
        person=h.person,
        role=GroupRole.LEADER,
        valid_from=start,
        duty=hostile("分工", 100),
        phone=hostile("电话", 30),
    )
    org.leading_group_appoint(
        actor=coord,
        unit=hz,
        person=twins[0],
        role=GroupRole.OFFICE,
        valid_from=start,
        duty=hostile("办公室", 100),
        phone=hostile("座机", 30),
    )
    ended = org.leading_group_appoint(
        actor=coord, unit=hz, person=twins[1], role=GroupRole.MEMBER, valid_from=start
    )
    org.leading_group_end(actor=coord, seat=ended, valid_to=DAY - timedelta(days=1))

    # The household a staff member keeps: a co-resident added, a family member moved out.
    org.family_member_declare(
        actor=staff, person=w.people["staff"], name=hostile("同住人", 50), relation="co_resident"
    )
    org.family_member_move_out(
        actor=staff, member=w.people["staff"].family.order_by("pk").first(), moved_out_on=DAY
    )

    # Platform sign-in: a WeCom user (named with markup) whose mobile is the hostile person's
    # waits for confirmation; an ambiguous mobile was refused, naming both people.
    platforms.add("hostile-wecom", hostile("企业微信用户", 64), h.person.mobile)
    platforms.who = "hostile-wecom"
    h.sso_login = "/sso/wecom/login/"
    sso.identity_refused(provider="wecom", reason="ambiguous", mobile="13900009999", people=twins)


def poison() -> int:
    """Write a hostile value into every HOSTILE_FIELDS field that holds none yet; returns how many."""
    changed = 0
    for label, names in HOSTILE_FIELDS.items():
        model = apps.get_model(label)
        fields = [model._meta.get_field(n) for n in names]
        for row in model.objects.values("pk", *names):
            update = {
                f.name: hostile(f"{model.__name__}{row['pk']}{f.name}", f.max_length or 300)
                for f in fields
                if "<" not in (row[f.name] or "")
            }
            if update:
                model.objects.filter(pk=row["pk"]).update(**update)
                changed += len(update)
    return changed
