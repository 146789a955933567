"""Daily health check-ins (one per person or family member per day), their revisions, follow-up cases."""

import time
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Symptom(models.TextChoices):
    FEVER = "fever", _("发热")
    COUGH = "cough", _("咳嗽")
    SORE_THROAT = "sore_throat", _("咽痛")
    FATIGUE = "fatigue", _("乏力")
    BREATH = "breath", _("气促/呼吸困难")
    DIARRHOEA = "diarrhoea", _("腹泻")
    SMELL_TASTE = "smell_taste", _("嗅觉/味觉减退")
    OTHER = "other", _("其他")


class Contact(models.TextChoices):
    NONE = "none", _("无接触")
    CONFIRMED = "confirmed", _("接触过确诊病例")
    SUSPECTED = "suspected", _("接触过疑似病例")
    ASYMPTOMATIC = "asymptomatic", _("接触过无症状感染者")


class Quarantine(models.TextChoices):
    NONE = "none", _("无")
    HOME = "home", _("居家隔离")
    CENTRALISED = "centralised", _("集中隔离")
    MEDICAL_OBSERVATION = "medical_observation", _("医学观察")
    HOSPITAL = "hospital", _("住院治疗")


class WorkMode(models.TextChoices):
    ON_SITE = "on_site", _("在岗")
    HOME_POST = "home_post", _("居家设岗")
    COMMUNITY = "community", _("就近履职")
    TRAVEL = "travel", _("出差")
    LEAVE = "leave", _("请假")


class Channel(models.TextChoices):
    WEB = "web", _("网页")
    API = "api", _("接口")
    PROXY = "proxy", _("代填")


class CheckIn(models.Model):
    """The current answers of one subject (a staff member or one family member) for one day."""

    person = models.ForeignKey("org.Person", on_delete=models.CASCADE, related_name="checkins")
    family_member = models.ForeignKey(
        "org.FamilyMember", on_delete=models.CASCADE, null=True, blank=True, related_name="checkins"
    )
    day = models.DateField(_("日期"))
    # The unit at the time of the check-in, so moving a person later does not rewrite history.
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    temperature = models.DecimalField(
        _("体温（℃）"),
        max_digits=3,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("34.0")), MaxValueValidator(Decimal("42.5"))],
    )
    symptoms = models.JSONField(_("症状"), default=list, blank=True)
    symptom_other = models.CharField(_("其他症状"), max_length=100, blank=True)
    contact = models.CharField(_("接触史"), max_length=20, choices=Contact.choices, default="none")
    risk_travel = models.BooleanField(_("到过或来自中高风险地区"), default=False)
    quarantine = models.CharField(
        _("隔离或医学观察"), max_length=24, choices=Quarantine.choices, default="none"
    )
    quarantine_place = models.CharField(_("隔离地点"), max_length=100, blank=True)
    quarantine_start = models.DateField(_("隔离开始日期"), null=True, blank=True)
    work_mode = models.CharField(
        _("今日工作方式"), max_length=20, choices=WorkMode.choices, blank=True
    )
    current_city = models.CharField(_("当前所在城市"), max_length=50, blank=True)
    out_of_town = models.BooleanField(_("不在工作地"), default=False)
    attested = models.BooleanField(_("承诺属实"), default=False)
    abnormal = models.BooleanField(_("异常"), default=False, db_index=True)
    abnormal_reasons = models.JSONField(default=list, blank=True)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("填报人"),
    )
    submitted_at = models.DateTimeField(_("首次提交时间"))
    updated_at = models.DateTimeField(_("最后修改时间"))
    version = models.PositiveIntegerField(default=1)
    corrected_after_lock = models.BooleanField(_("截止后更正"), default=False)
    correction_reason = models.CharField(_("更正原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("健康打卡")
        verbose_name_plural = _("健康打卡")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "day"],
                condition=Q(family_member__isnull=True),
                name="one_self_checkin_per_day",
            ),
            models.UniqueConstraint(
                fields=["family_member", "day"],
                condition=Q(family_member__isnull=False),
                name="one_family_checkin_per_day",
            ),
        ]
        indexes = [
            # Covers every column the roll-up's check-in counts read (reports.selectors), so
            # they are answered from the index alone. They count "id": PostgreSQL needs it in
            # the index for an index-only scan (SQLite has it there anyway, as the rowid).
            models.Index(
                fields=[
                    "unit",
                    "day",
                    "family_member",
                    "temperature",
                    "contact",
                    "quarantine",
                    "out_of_town",
                    "work_mode",
                    "id",
                ],
                name="checkin_unit_day_cover",
            ),
            models.Index(fields=["day", "person"], name="checkin_day_person"),
        ]

    def __str__(self) -> str:
        who = self.family_member.name if self.family_member_id else self.person.name
        return f"{who} {self.day}"


class CheckInRevision(models.Model):
    """A superseded version of a check-in, kept when it is corrected."""

    checkin = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    answers = models.JSONField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField()
    superseded_at = models.DateTimeField()

    class Meta:
        ordering = ["checkin", "version"]
        constraints = [
            models.UniqueConstraint(fields=["checkin", "version"], name="uniq_checkin_revision")
        ]

    def __str__(self) -> str:
        return f"{self.checkin_id} v{self.version}"


class IdempotencyRecord(models.Model):
    """The first answer to a submission key; a replay with the same key and content gets it back."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    result = models.JSONField(null=True)
    # SHA-256 of the submission the key was first used for (services.request_hash); "" on
    # records kept from before it was stored.
    request_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="uniq_idempotency_key")]

    def __str__(self) -> str:
        return self.key


class HealthRules(models.Model):
    """Which answers make a check-in abnormal and open a follow-up case (one row, editable)."""

    fever_threshold = models.DecimalField(
        _("发热阈值（℃）"), max_digits=3, decimal_places=1, default=Decimal("37.3")
    )
    any_symptom = models.BooleanField(_("任一症状即异常"), default=True)
    any_contact = models.BooleanField(_("有接触史即异常"), default=True)
    risk_travel = models.BooleanField(_("到过风险地区即异常"), default=True)

    class Meta:
        verbose_name = _("异常判定规则")
        verbose_name_plural = _("异常判定规则")

    def __str__(self) -> str:
        return f"≥{self.fever_threshold}℃"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        _rules_cache.clear()

    @classmethod
    def current(cls) -> "HealthRules":
        """The rules, cached in this process for a minute (they are read on every check-in)."""
        cached = _rules_cache.get("rules")
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        rules = cls.objects.order_by("pk").first() or cls.objects.create()
        _rules_cache["rules"] = (rules, time.monotonic() + 60)
        return rules


_rules_cache: dict = {}


class CaseStatus(models.TextChoices):
    OBSERVING = "observing", _("观察中")
    SUSPECTED = "suspected", _("疑似")
    CONFIRMED = "confirmed", _("确诊")
    RECOVERED = "recovered", _("治愈")
    RELEASED = "released", _("解除")
    EXCLUDED = "excluded", _("排除")


OPEN_STATUSES = (CaseStatus.OBSERVING, CaseStatus.SUSPECTED, CaseStatus.CONFIRMED)
# Allowed moves of the case lifecycle; closing states have no way out.
TRANSITIONS = {
    CaseStatus.OBSERVING: {CaseStatus.SUSPECTED, CaseStatus.RELEASED, CaseStatus.EXCLUDED},
    CaseStatus.SUSPECTED: {CaseStatus.CONFIRMED, CaseStatus.EXCLUDED, CaseStatus.RELEASED},
    CaseStatus.CONFIRMED: {CaseStatus.RECOVERED},
}


class FollowUpCase(models.Model):
    """An abnormal person or family member followed by the liaison until the case is closed."""

    person = models.ForeignKey("org.Person", on_delete=models.PROTECT, related_name="cases")
    family_member = models.ForeignKey(
        "org.FamilyMember", on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("开始时间"))
    opened_from = models.ForeignKey(
        CheckIn, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reasons = models.JSONField(_("异常原因"), default=list)
    status = models.CharField(
        _("状态"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.OBSERVING
    )
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("跟踪个案")
        verbose_name_plural = _("跟踪个案")
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(closed_at__isnull=True, family_member__isnull=True),
                name="one_open_case_per_person",
            ),
            models.UniqueConstraint(
                fields=["family_member"],
                condition=Q(closed_at__isnull=True, family_member__isnull=False),
                name="one_open_case_per_family_member",
            ),
        ]
        indexes = [models.Index(fields=["unit", "status"], name="case_unit_status")]

    def __str__(self) -> str:
        who = self.family_member.name if self.family_member_id else self.person.name
        return f"{who} · {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def delete(self, *args, **kwargs):
        raise RuntimeError("follow-up cases are closed with an entry, never deleted")


class FollowUpEntry(models.Model):
    """One note on a case, possibly moving its status."""

    case = models.ForeignKey(FollowUpCase, on_delete=models.PROTECT, related_name="entries")
    at = models.DateTimeField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    from_status = models.CharField(max_length=12, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=CaseStatus.choices)
    note = models.TextField(_("跟踪记录"))

    class Meta:
        ordering = ["case", "at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.to_status}"


class ExemptionKind(models.TextChoices):
    LONG_LEAVE = "long_leave", _("长期请假")
    SICK_LEAVE = "sick_leave", _("病假")
    MATERNITY = "maternity", _("产假")
    SECONDMENT = "secondment", _("借调/抽调")
    OTHER = "other", _("其他")


class Exemption(models.Model):
    """A dated period in which a person is not expected to check in."""

    person = models.ForeignKey("org.Person", on_delete=models.CASCADE, related_name="exemptions")
    kind = models.CharField(_("类型"), max_length=20, choices=ExemptionKind.choices)
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("免打卡")
        verbose_name_plural = _("免打卡")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="exemption_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.kind} {self.start}"


class DailyHealthAggregate(models.Model):
    """Per unit and day totals that outlive individual check-ins purged after the retention period."""

    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    staff_checked = models.PositiveIntegerField(default=0)
    family_checked = models.PositiveIntegerField(default=0)
    staff_abnormal = models.PositiveIntegerField(default=0)
    family_abnormal = models.PositiveIntegerField(default=0)
    staff_fever = models.PositiveIntegerField(default=0)
    family_fever = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "day"], name="uniq_health_aggregate")
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day}"
