"""The reminder ladder: who is chased, when, on which channels. Planning is idempotent.

Every reminder has a deterministic key (what, whom, which step, which day), and rows are inserted
with ON CONFLICT DO NOTHING, so a run that is killed and started again adds exactly what is still
missing, and a second run at the same minute adds nothing. Whether a unit or a person is still
missing is read fresh on every run, so chasing stops the moment the report or check-in arrives.
The run reads everything in a fixed number of queries, whatever the number of recipients.
"""

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from fangkong.health.models import CheckIn, Exemption
from fangkong.lib import clock
from fangkong.notices.models import DEFAULT_LADDERS, NoticeRecipient, ReminderRule
from fangkong.notify.services import Outgoing, messages_offer
from fangkong.org import selectors as org
from fangkong.org.models import OrgUnit, Person, ancestor_ids
from fangkong.reports.models import CurrentReport, ReportForm
from fangkong.reports.schedule import UNIT_FIELDS, schedule_of


class Contacts:
    """Liaisons, first responsible persons and coordinators of every unit (three queries)."""

    def __init__(self):
        self.liaisons: dict[int, list[tuple]] = defaultdict(list)
        self.leaders: dict[int, list[tuple]] = defaultdict(list)
        self.coordinators: dict[int, list[tuple]] = defaultdict(list)
        for unit_id, user_id, email, mobile in OrgUnit.objects.filter(
            liaisons__user__isnull=False
        ).values_list("id", "liaisons__user_id", "liaisons__user__email", "liaisons__mobile"):
            self.liaisons[unit_id].append((user_id, email, mobile))
        for unit_id, user_id, email, mobile in OrgUnit.objects.filter(
            first_responsible__user__isnull=False
        ).values_list(
            "id",
            "first_responsible__user_id",
            "first_responsible__user__email",
            "first_responsible__mobile",
        ):
            self.leaders[unit_id].append((user_id, email, mobile))
        for unit_id, user_id, email, mobile in org.coordinator_contacts():
            self.coordinators[unit_id].append((user_id, email, mobile))

    def nearest(self, table: dict[int, list], path: str, *, skip_self: bool) -> list[tuple]:
        """The contacts of the closest unit on the path (the unit itself unless skipped)."""
        ids = ancestor_ids(path)
        for unit_id in reversed(ids[:-1] if skip_self else ids):
            if table.get(unit_id):
                return table[unit_id]
        return []


class Plan:
    """Messages gathered during one run, offered to the outbox together at the end."""

    def __init__(self, now: datetime):
        self.now = now
        self.rows: list[Outgoing] = []

    def add(
        self, *, key: str, kind: str, contact: tuple, channels: list[str], subject: str, body: str
    ) -> None:
        user_id, email, mobile = contact
        for spec in channels:
            # "wecom:NAME" / "dingtalk:NAME" post to the named group robot, @-mentioning the mobile.
            channel, _, robot = spec.partition(":")
            address = {"email": email, "sms": mobile}.get(channel, "")
            if robot:
                address = f"{robot}:{mobile}" if mobile else robot
            if channel in ("email", "sms") and not address:
                continue  # nobody to reach on this channel; the inbox copy still goes
            self.rows.append(
                Outgoing(f"{key}:{spec}:{user_id}", kind, channel, user_id, address, subject, body)
            )

    def save(
        self, batch_size: int | None = None, checkpoint: Callable[[], bool] | None = None
    ) -> int:
        """Offer all rows to the outbox, a batch per transaction (see notify's messages_offer).

        `checkpoint` is asked before each batch (a job renews its lease there); False stops the
        run, leaving the rest to whoever took the job over. Returns the rows offered.
        """
        return messages_offer(self.rows, now=self.now, batch_size=batch_size, checkpoint=checkpoint)


def _ladder(kind: str, form: ReportForm | None, path: str, rules: list[ReminderRule]) -> dict:
    """The rule nearest the unit (for the form, else any form), or the default ladder."""
    ids = ancestor_ids(path)
    best, depth = None, -1
    for r in rules:
        if (
            r.unit_id in ids
            and ids.index(r.unit_id) > depth
            and r.form_id in (None, getattr(form, "pk", None))
        ):
            best, depth = r, ids.index(r.unit_id)
    if best is not None:
        return {"steps": best.steps, "past_days": best.past_days}
    return {"steps": DEFAULT_LADDERS[kind], "past_days": 7}


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%m月%d日 %H:%M")


def plan_reports(plan: Plan, contacts: Contacts, rules: list[ReminderRule]) -> None:
    now, today = plan.now, timezone.localtime(plan.now).date()
    past = max([r.past_days for r in rules if r.kind == "report"] + [7])
    for form in (
        ReportForm.objects.filter(active_from__lte=today)
        .filter(Q(active_until__isnull=True) | Q(active_until__gte=today))
        .select_related("root")
    ):
        sched = schedule_of(form)
        units = list(OrgUnit.objects.filter(sched.units_q()).values("name", *UNIT_FIELDS))
        # Newest first: a ladder's `past_days` takes the first days of this list.
        days = sched.active_days(today - timedelta(days=past), today)[::-1]
        owed = sched.dues(units, days)
        done = set(
            CurrentReport.objects.filter(form=form, day__in=days).values_list("unit_id", "day")
        )
        digests: dict[tuple, list[str]] = defaultdict(list)  # (coordinator contact, step) → lines
        for u in units:
            ladder = _ladder("report", form, u["path"], rules)
            window = ladder["past_days"] + 1
            for day, due in zip(days[:window], owed[u["id"]][:window], strict=True):
                if (u["id"], day) in done or not due.expected:
                    continue
                deadline = due.deadline_at
                if day == today:
                    for i, step in enumerate(ladder["steps"]):
                        if now < deadline + timedelta(minutes=step["offset"]):
                            continue
                        _report_step(plan, contacts, form, u, day, deadline, i, step, digests)
                else:
                    # A past day still missing: chase it once a day, liaison and coordinator.
                    key = f"r:{form.pk}:{u['id']}:{day}:past:{today}"
                    for c in contacts.liaisons.get(u["id"], []):
                        plan.add(
                            key=key,
                            kind="reminder.report",
                            contact=c,
                            channels=["inbox", "sms"],
                            subject=f"【漏报】{u['name']} {day:%m月%d日} 日报告未报送",
                            body=f"{u['name']} {day:%m月%d日} 的{form.name}仍未报送，"
                            f"请联系上级协调员解锁后补报。",
                        )
                    for c in contacts.nearest(contacts.coordinators, u["path"], skip_self=True):
                        digests[(c, f"past:{today}", ("inbox", "email"))].append(
                            f"{u['name']}（{day:%m月%d日}，漏报）"
                        )
        for (contact, step, channels), lines in digests.items():
            plan.add(
                key=f"r:{form.pk}:coord:{today}:{step}",
                kind="reminder.report.digest",
                contact=contact,
                channels=list(channels),
                subject=f"【催报】{form.name}：下级 {len(lines)} 个单位未报送",
                body="以下单位尚未报送：\n" + "\n".join(sorted(lines)),
            )


def _report_step(plan, contacts, form, u, day, deadline, i, step, digests) -> None:
    key = f"r:{form.pk}:{u['id']}:{day}:{i}"
    when = _local(deadline)
    if step["to"] in ("liaison", "leader"):
        table = contacts.liaisons if step["to"] == "liaison" else contacts.leaders
        late = plan.now >= deadline
        for c in table.get(u["id"], []):
            plan.add(
                key=key,
                kind="reminder.report",
                contact=c,
                channels=step["channels"],
                subject=(
                    f"【催报】{u['name']} 日报告已逾期"
                    if late
                    else f"【提醒】{u['name']} 日报告请于 {when} 前报送"
                ),
                body=f"{u['name']} {day:%m月%d日} 的{form.name}"
                + (
                    "已超过截止时间，尚未报送，请立即报送。"
                    if late
                    else f"尚未报送，截止时间 {when}。没有情况也请报送零报告。"
                ),
            )
    elif step["to"] == "parent_coordinator":
        for c in contacts.nearest(contacts.coordinators, u["path"], skip_self=True):
            digests[(c, str(i), tuple(step["channels"]))].append(f"{u['name']}（截止 {when}）")


def plan_checkins(plan: Plan, contacts: Contacts, rules: list[ReminderRule]) -> None:
    """Staff who have not checked in today: the person, later their unit's liaison (a digest)."""
    today = timezone.localtime(plan.now).date()
    start = clock.day_start(today)
    checkin_rules = [r for r in rules if r.kind == "checkin"]
    ladders: dict[int, list] = {}

    def due_steps(unit_id: int, path: str) -> list:
        # The unit's ladder, resolved once per unit, reduced to the steps whose time has come.
        if unit_id not in ladders:
            steps = _ladder("checkin", None, path, checkin_rules)["steps"]
            ladders[unit_id] = [
                (i, s)
                for i, s in enumerate(steps)
                if plan.now >= start + timedelta(minutes=s["offset"])
            ]
        return ladders[unit_id]

    if not any(
        plan.now >= start + timedelta(minutes=s["offset"])
        for steps in [DEFAULT_LADDERS["checkin"]] + [r.steps for r in checkin_rules]
        for s in steps
    ):
        return
    missing = (
        Person.objects.filter(user__isnull=False, left_on__isnull=True)
        .filter(Q(active_from__isnull=True) | Q(active_from__lte=today))
        .exclude(
            Exists(
                CheckIn.objects.filter(person=OuterRef("pk"), day=today, family_member__isnull=True)
            )
        )
        .exclude(
            Exists(
                Exemption.objects.filter(person=OuterRef("pk"), start__lte=today).filter(
                    Q(end__isnull=True) | Q(end__gte=today)
                )
            )
        )
        .values_list("id", "name", "user_id", "user__email", "mobile", "unit_id", "unit__path")
    )
    per_liaison: dict[tuple, list[str]] = defaultdict(list)
    for person_id, name, user_id, email, mobile, unit_id, path in missing:
        for i, step in due_steps(unit_id, path):
            if step["to"] == "person":
                plan.add(
                    key=f"c:{today}:{i}:{person_id}",
                    kind="reminder.checkin",
                    contact=(user_id, email, mobile),
                    channels=step["channels"],
                    subject="【提醒】请完成今日健康打卡",
                    body="请完成本人及家庭成员、同住人今日健康打卡。",
                )
            elif step["to"] == "liaison":
                for c in contacts.nearest(contacts.liaisons, path, skip_self=False):
                    per_liaison[(c, i, tuple(step["channels"]))].append(name)
    for (contact, i, channels), names in per_liaison.items():
        plan.add(
            key=f"c:{today}:{i}:digest",
            kind="reminder.checkin.digest",
            contact=contact,
            channels=list(channels),
            subject=f"【提醒】本单位 {len(names)} 人未完成今日健康打卡",
            body="未打卡人员：" + "、".join(sorted(names)) + "。可在“本单位打卡情况”页代填。",
        )


def plan_notices(plan: Plan, contacts: Contacts, rules: list[ReminderRule]) -> None:
    """Recipients who have not acknowledged a notice: the person, then their unit's liaison."""
    ladder = DEFAULT_LADDERS["notice"]
    window = max(-s["offset"] for s in ladder)
    pending = NoticeRecipient.objects.filter(
        acked_at__isnull=True,
        notice__requires_ack=True,
        notice__ack_by__lte=plan.now + timedelta(minutes=window),
        notice__ack_by__gte=plan.now - timedelta(days=7),
    ).values_list(
        "notice_id",
        "notice__title",
        "notice__ack_by",
        "user_id",
        "user__email",
        "user__person__name",
        "user__person__mobile",
        "unit__path",
    )
    per_liaison: dict[tuple, list[str]] = defaultdict(list)
    for notice_id, title, ack_by, user_id, email, name, mobile, path in pending:
        for i, step in enumerate(ladder):
            if plan.now < ack_by + timedelta(minutes=step["offset"]):
                continue
            if step["to"] == "person":
                plan.add(
                    key=f"n:{notice_id}:{i}",
                    kind="reminder.notice",
                    contact=(user_id, email, mobile or ""),
                    channels=step["channels"],
                    subject=f"【提醒】请确认收到通知：{title}",
                    body=f"通知「{title}」需要在 {_local(ack_by)} 前确认收到。",
                )
            else:
                for c in contacts.nearest(contacts.liaisons, path, skip_self=False):
                    per_liaison[(c, notice_id, title, i)].append(name or str(user_id))
    for (contact, notice_id, title, i), names in per_liaison.items():
        plan.add(
            key=f"n:{notice_id}:{i}:digest",
            kind="reminder.notice.digest",
            contact=contact,
            channels=ladder[i]["channels"],
            subject=f"【催办】通知「{title}」尚有 {len(names)} 人未确认",
            body="未确认人员：" + "、".join(sorted(names)) + "。",
        )


def run(
    now: datetime | None = None,
    *,
    batch_size: int | None = None,
    checkpoint: Callable[[], bool] | None = None,
) -> dict:
    """Plan every reminder due at `now` (the server clock by default); returns counts.

    `checkpoint` is called between steps and batches (the scheduled job renews its lease there);
    when it answers False the run stops and `stopped` is True.
    """
    plan = Plan(now or clock.now())
    contacts = Contacts()
    rules = list(ReminderRule.objects.all())
    for step in (plan_reports, plan_checkins, plan_notices):
        if checkpoint is not None and not checkpoint():
            return {"prepared": 0, "stopped": True}
        step(plan, contacts, rules)
    prepared = plan.save(batch_size, checkpoint)
    return {"prepared": prepared, "stopped": prepared < len(plan.rows)}
