"""Report forms, immutable report versions with a hash chain, reviews, unlocks and signal reviews."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.lib import clock

# The default daily form: each figure for staff (职工) and for family members (家属) separately.
# `derive` names the check-in measure that pre-fills it (see selectors.DERIVED_MEASURES).
DEFAULT_MEASURES = [
    ("confirmed", "确诊", "confirmed"),
    ("suspected", "疑似", "suspected"),
    ("close_contact", "密切接触者", "close_contact"),
    ("fever", "发热", "fever"),
    ("quarantine", "隔离或医学观察", "quarantine"),
    ("out_of_town", "不在工作地", "out_of_town"),
    ("home_post", "居家设岗", "home_post"),
]


def default_fields() -> list[dict]:
    fields = []
    for group, group_name in (("staff", "职工"), ("family", "家属")):
        for key, name, derive in DEFAULT_MEASURES:
            if group == "family" and key in ("out_of_town", "home_post"):
                continue
            fields.append(
                {
                    "key": f"{group}_{key}",
                    "label": f"{group_name}{name}",
                    "group": group,
                    "derive": f"{group}_{derive}",
                }
            )
    return fields


class ReportForm(models.Model):
    """A daily report form assigned to a subtree, with a deadline and a separate lock."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    root = models.ForeignKey(
        "org.OrgUnit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("适用单位（含下级）"),
    )
    levels = models.ManyToManyField("org.UnitLevel", verbose_name=_("须报送的单位层级"))
    fields = models.JSONField(_("报表指标"), default=default_fields)
    version = models.PositiveIntegerField(_("版本"), default=1)
    deadline_minutes = models.PositiveIntegerField(
        _("截止时间（当日零点起分钟数）"), default=10 * 60, help_text=_("600 即当日 10:00")
    )
    lock_minutes = models.PositiveIntegerField(
        _("锁定时间（当日零点起分钟数）"), default=24 * 60, help_text=_("1440 即当日 24:00")
    )
    active_from = models.DateField(_("启用日期"))
    active_until = models.DateField(_("停用日期"), null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        verbose_name = _("报表")
        verbose_name_plural = _("报表")
        constraints = [
            models.CheckConstraint(
                condition=Q(lock_minutes__gte=models.F("deadline_minutes")),
                name="form_lock_after_deadline",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def field_keys(self) -> list[str]:
        return [f["key"] for f in self.fields]


class ScheduleOverride(models.Model):
    """A different deadline or lock for a subtree; the override nearest the unit wins."""

    form = models.ForeignKey(ReportForm, on_delete=models.CASCADE, related_name="overrides")
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.CASCADE, related_name="+")
    deadline_minutes = models.PositiveIntegerField(_("截止时间（分钟）"))
    lock_minutes = models.PositiveIntegerField(_("锁定时间（分钟）"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["form", "unit"], name="uniq_schedule_override"),
            models.CheckConstraint(
                condition=Q(lock_minutes__gte=models.F("deadline_minutes")),
                name="override_lock_after_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form} · {self.unit}"


class ReportKind(models.TextChoices):
    DAILY = "daily", _("日报告")
    ZERO = "zero", _("零报告")


class Report(models.Model):
    """One submitted version of a unit's report for a day. Never updated: a correction is a new row."""

    form = models.ForeignKey(ReportForm, on_delete=models.PROTECT, related_name="reports")
    form_version = models.PositiveIntegerField()
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=ReportKind.choices)
    values = models.JSONField(default=dict)
    derived = models.JSONField(default=dict)
    explanation = models.TextField(_("与打卡数据不一致的说明"), blank=True)
    narrative = models.TextField(_("情况说明"), blank=True)
    measures = models.TextField(_("采取的措施"), blank=True)
    correction_reason = models.TextField(_("更正原因"), blank=True)
    submitted_at = models.DateTimeField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The schedule that applied when it was submitted, so later overrides cannot rewrite lateness.
    deadline_at = models.DateTimeField()
    lock_at = models.DateTimeField()
    unlock = models.ForeignKey(
        "reports.Unlock", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["unit", "day", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "unit", "day", "version"], name="uniq_report_version"
            ),
        ]
        indexes = [models.Index(fields=["form", "day", "unit"], name="report_form_day_unit")]

    def __str__(self) -> str:
        return f"{self.unit} {self.day} v{self.version}"


class CurrentReport(models.Model):
    """Pointer to the latest version and the first submission time of a unit's report for a day.

    Reports themselves are immutable; this row is what moves when a new version arrives.
    """

    form = models.ForeignKey(ReportForm, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    report = models.OneToOneField(Report, on_delete=models.PROTECT, related_name="+")
    first_submitted_at = models.DateTimeField()
    first_deadline_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["form", "unit", "day"], name="uniq_current_report")
        ]
        indexes = [models.Index(fields=["form", "day"], name="current_form_day")]

    def __str__(self) -> str:
        return f"{self.unit} {self.day}"


class ReviewAction(models.TextChoices):
    ACCEPT = "accept", _("通过")
    RETURN = "return", _("退回")


class Review(models.Model):
    """A superior's decision on one report version (along the tree or an extra reporting line)."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="reviews")
    reviewer_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=8, choices=ReviewAction.choices)
    comment = models.TextField(_("意见"), blank=True)
    missing_children_reason = models.TextField(_("下级缺报仍通过的原因"), blank=True)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.report} {self.action}"


class Unlock(models.Model):
    """A coordinator's permission to correct a locked report, valid until it expires."""

    form = models.ForeignKey(ReportForm, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    reason = models.TextField(_("解锁原因"))
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.unit} {self.day} → {self.expires_at}"


class SignalReview(models.Model):
    """A coordinator's note that a concealment signal on a unit and day has been looked into."""

    form = models.ForeignKey(ReportForm, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    signal = models.CharField(max_length=30)
    note = models.TextField(_("核查情况"))
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"{self.unit} {self.day} {self.signal}"


class Dhis2Mapping(models.Model):
    """How a form field and a unit are named in a national DHIS2 (dataValueSets export)."""

    form = models.ForeignKey(ReportForm, on_delete=models.CASCADE, related_name="dhis2_mappings")
    field_key = models.CharField(max_length=60, blank=True)
    unit = models.ForeignKey(
        "org.OrgUnit", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    dhis2_id = models.CharField(_("DHIS2 编码"), max_length=64)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(field_key="") ^ Q(unit__isnull=True), name="mapping_field_xor_unit"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.field_key or self.unit} → {self.dhis2_id}"
