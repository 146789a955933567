"""Notices and work plans with per-recipient read and acknowledgement, and reminder ladders."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NoticeKind(models.TextChoices):
    NOTICE = "notice", _("通知")
    WORK_PLAN = "work_plan", _("工作方案")
    EMERGENCY = "emergency", _("紧急通知")


class Audience(models.TextChoices):
    STAFF = "staff", _("全体职工")
    LIAISON = "liaison", _("联络员")
    LEADER = "leader", _("第一责任人")
    COORDINATOR = "coordinator", _("协调员")


class Notice(models.Model):
    """A notice issued down the hierarchy to a subtree, to some roles there."""

    kind = models.CharField(
        _("类型"), max_length=12, choices=NoticeKind.choices, default=NoticeKind.NOTICE
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    unit = models.ForeignKey(
        "org.OrgUnit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("下发范围（含下级）"),
    )
    audiences = models.JSONField(_("接收对象"), default=list)
    requires_ack = models.BooleanField(_("需要确认收到"), default=False)
    ack_by = models.DateTimeField(_("确认截止时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")

    def __str__(self) -> str:
        return self.title


class NoticeAttachment(models.Model):
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(max_length=200)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.name


class NoticeRecipient(models.Model):
    """One recipient of a notice: when they read it and when they acknowledged it."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)
    acked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notice", "user"], name="uniq_notice_recipient")
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} → {self.user_id}"


# The default ladder. Offsets are minutes from the form's deadline (reports), from the start of
# the day (check-ins) or from the acknowledgement deadline (notices).
DEFAULT_LADDERS = {
    "report": [
        {"offset": -60, "to": "liaison", "channels": ["inbox", "sms"]},
        {"offset": 0, "to": "leader", "channels": ["inbox", "sms"]},
        {"offset": 60, "to": "parent_coordinator", "channels": ["inbox", "email"]},
    ],
    "checkin": [
        {"offset": 9 * 60, "to": "person", "channels": ["inbox"]},
        {"offset": 11 * 60, "to": "liaison", "channels": ["inbox"]},
    ],
    "notice": [
        {"offset": -24 * 60, "to": "person", "channels": ["inbox"]},
        {"offset": 0, "to": "liaison", "channels": ["inbox"]},
    ],
}


class ReminderKind(models.TextChoices):
    REPORT = "report", _("日报告催报")
    CHECKIN = "checkin", _("健康打卡提醒")
    NOTICE = "notice", _("通知确认提醒")


class ReminderRule(models.Model):
    """A reminder ladder for a subtree (and a report form); the rule nearest a unit wins."""

    kind = models.CharField(_("类型"), max_length=10, choices=ReminderKind.choices)
    form = models.ForeignKey(
        "reports.ReportForm", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.CASCADE, related_name="+")
    steps = models.JSONField(_("催报步骤"))
    past_days = models.PositiveSmallIntegerField(_("追溯天数"), default=7)

    class Meta:
        verbose_name = _("催报规则")
        verbose_name_plural = _("催报规则")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.unit}"
