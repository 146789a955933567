"""Users, personal API tokens, account batches, one-time codes and sign-in throttle events.

The roles users hold in the org tree are `org.RoleAssignment`.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.lib import clock
from fangkong.lib.masking import mask_username


class User(AbstractUser):
    """A login. Staff who never log in have a Person but no User.

    A username is often the person's mobile number (ACCOUNT_USERNAME_RULE), so wherever a user is
    shown to others (lists, the audit trail, "by whom" lines) it is masked: `str(user)` is
    张伟（139****5678）. It is shown whole only where its owner types or receives it (sign-in,
    activation, their slip or SMS) and on an administrator's password-reset answer.
    """

    must_change_password = models.BooleanField(_("下次登录须修改密码"), default=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        person = getattr(self, "person", None)
        shown = mask_username(self.username)
        return f"{person.name}（{shown}）" if person else shown

    @property
    def display_name(self) -> str:
        """The signed-in user in the top bar: their name, else the (masked) username."""
        person = getattr(self, "person", None)
        return person.name if person else mask_username(self.username)


class ApiToken(models.Model):
    """A personal token for scripts: stored as a SHA-256 hash, revocable, scoped like its owner."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AccountBatch(models.Model):
    """A request to give everyone active in a unit's subtree an account (run as a background job).

    The job walks the subtree's people in id order; `cursor` is the last id done, written in the
    same transaction as the accounts it made, so a killed worker's successor resumes where it
    stopped. `heartbeat_at` is the lease: a running batch whose heartbeat is older than
    services.BATCH_LEASE belongs to a dead worker and may be taken over.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    class Delivery(models.TextChoices):
        SMS = "sms", _("短信发送激活码（无手机号码的人员打印凭条）")
        SLIP = "slip", _("全部打印凭条")

    unit = models.ForeignKey(
        "org.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("单位")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    delivery = models.CharField(_("激活码发放方式"), max_length=10, choices=Delivery.choices)
    username_rule = models.CharField(_("用户名规则"), max_length=20)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    total = models.PositiveIntegerField(_("人员总数"), default=0)
    done = models.PositiveIntegerField(_("已处理"), default=0)
    cursor = models.BigIntegerField(default=0)
    counts = models.JSONField(_("统计"), default=dict, blank=True)
    problems = models.JSONField(_("问题"), default=list, blank=True)
    error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(_("提交时间"))
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("批量开通账号")
        verbose_name_plural = _("批量开通账号")

    def __str__(self) -> str:
        return f"{self.unit} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def progress(self) -> int:
        """Percent of the subtree's people processed."""
        if self.status == self.Status.DONE:
            return 100
        return int(self.done * 100 / self.total) if self.total else 0


class AccessCode(models.Model):
    """A single-use code: activates a new account, or lets one browser past the sign-in lock-out.

    Only an HMAC-SHA256 of the code (keyed by a server secret, see accounts/codes.py) is stored;
    the code itself exists in the SMS or on the printed slip. An unlock code is bound to the
    browser that asked for it (`binding`, the hash of a cookie), so guesses from elsewhere can
    neither use nor burn it.
    """

    class Purpose(models.TextChoices):
        ACTIVATE = "activate", _("账号激活")
        UNLOCK = "unlock", _("登录验证")

    class Channel(models.TextChoices):
        SMS = "sms", _("短信")
        SLIP = "slip", _("纸质凭条")
        EMAIL = "email", _("电子邮件")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_codes"
    )
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    code_hash = models.CharField(max_length=64, unique=True)
    binding = models.CharField(max_length=64, blank=True)
    batch = models.ForeignKey(
        AccountBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="codes"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("一次性验证码")
        verbose_name_plural = _("一次性验证码")
        indexes = [models.Index(fields=["user", "purpose"], name="access_code_user")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} · {self.user_id}"


class ThrottleEvent(models.Model):
    """One failed sign-in or activation attempt, a successful sign-in, or an unlock code sent:
    what the lock-out rules in accounts/throttle.py count. Nothing else reads these; they are
    purged after two days."""

    at = models.DateTimeField()
    kind = models.CharField(max_length=12)
    username = models.CharField(max_length=150)
    address = models.GenericIPAddressField(null=True, blank=True)
    # The trusted-browser cookie's id when the attempt carried a valid one, else "".
    device = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["username", "at"], name="throttle_username"),
            models.Index(fields=["address", "at"], name="throttle_address"),
            models.Index(fields=["device", "at"], name="throttle_device"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.username}"
