"""Users, the roles they hold in the org tree, and personal API tokens."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A login. Staff who never log in have a Person but no User."""

    must_change_password = models.BooleanField(_("下次登录须修改密码"), default=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        person = getattr(self, "person", None)
        return f"{person.name}（{self.username}）" if person else self.username


class Role(models.TextChoices):
    """Explicitly assigned roles. Liaison and first responsible person come from the unit itself."""

    ADMIN = "admin", _("系统管理员")
    COORDINATOR = "coordinator", _("协调员")
    DUTY_OFFICER = "duty_officer", _("值班员")
    AUDITOR = "auditor", _("审计人员")


class RoleAssignment(models.Model):
    """A role held by a user over a unit's subtree (admin and auditor need no unit)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    unit = models.ForeignKey(
        "org.OrgUnit", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("角色分配")
        verbose_name_plural = _("角色分配")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "unit"], name="uniq_role_assignment"),
            models.CheckConstraint(
                condition=models.Q(role__in=["admin", "auditor"]) | models.Q(unit__isnull=False),
                name="role_needs_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit or '—'}"


class ApiToken(models.Model):
    """A personal token for scripts: stored as a SHA-256 hash, revocable, scoped like its owner."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
