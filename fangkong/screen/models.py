"""Health-education posts (宣教) and revocable display links for the office big screen (电子大屏)."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

POST_BODY_MAX = 300


class EducationPost(models.Model):
    """A short knowledge item shown on the home page and the big screen of a subtree.

    It shows from `published_from` until `published_until` (open-ended when empty) to the people
    of `unit`'s subtree, or to everyone when `unit` is empty. Unpublishing ends it now.
    """

    title = models.CharField(_("标题"), max_length=60)
    body = models.TextField(
        _("正文"), max_length=POST_BODY_MAX, validators=[MaxLengthValidator(POST_BODY_MAX)]
    )
    source = models.CharField(_("来源"), max_length=60, blank=True)
    unit = models.ForeignKey(
        "org.OrgUnit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("展示范围（含下级）"),
    )
    published_from = models.DateTimeField(_("开始展示"))
    published_until = models.DateTimeField(_("停止展示"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("宣教内容")
        verbose_name_plural = _("宣教内容")
        ordering = ["-published_from", "-id"]
        indexes = [models.Index(fields=["published_from"], name="post_published_from")]
        constraints = [
            models.CheckConstraint(
                condition=Q(published_until__isnull=True)
                | Q(published_until__gte=models.F("published_from")),
                name="post_until_after_from",
            )
        ]

    def __str__(self) -> str:
        return self.title


class DisplayLink(models.Model):
    """A link for an office display that opens one node's big screen without a login.

    Only the SHA-256 hash of the random token is stored; the URL is shown once, on creation.
    A revoked link answers 404, exactly like an unknown one.
    """

    name = models.CharField(_("名称"), max_length=60, help_text=_("例如：3楼大厅屏幕"))
    node = models.ForeignKey(
        "org.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("单位")
    )
    form = models.ForeignKey(
        "reports.ReportForm", on_delete=models.PROTECT, related_name="+", verbose_name=_("报表")
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("大屏显示链接")
        verbose_name_plural = _("大屏显示链接")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name
