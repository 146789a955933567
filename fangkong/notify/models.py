"""The outbox: every message to every recipient on every channel, with its delivery state."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    INBOX = "inbox", _("站内消息")
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")
    WECOM = "wecom", _("企业微信群机器人")
    DINGTALK = "dingtalk", _("钉钉群机器人")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已送达")
    FAILED = "failed", _("发送失败")


class Message(models.Model):
    """One message on one channel. `key` is deterministic, so planning the same message twice
    (a job re-run after a crash) finds the existing row instead of adding a second one."""

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(_("类型"), max_length=30)  # reminder.report, reminder.checkin, notice…
    channel = models.CharField(_("渠道"), max_length=10, choices=ChannelKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)  # email, mobile, webhook name
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    status = models.CharField(
        _("状态"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # When a worker took the message for sending; a message still `sending` long after this was
    # taken by a worker that died mid-send (see delivery.py).
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="message_due"),
            models.Index(fields=["user", "channel", "read_at"], name="message_inbox"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.address or self.user_id}: {self.subject}"
