"""The unit tree (materialised path), reporting lines, ranks, people and their families."""

from datetime import date

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

from fangkong.lib import clock

# Each path segment is the unit's primary key, zero-padded to this many digits. Digits only, so
# the ordering is the same under every collation and a subtree is one B-tree range scan.
SEGMENT = 8


def subtree_bounds(path: str) -> tuple[str, str]:
    """The half-open range [path, upper) that holds exactly the unit and its descendants."""
    upper = str(int(path) + 1).zfill(len(path))
    return path, upper


def ancestor_ids(path: str) -> list[int]:
    """Primary keys of the unit and all its ancestors, root first, read off the path."""
    return [int(path[i : i + SEGMENT]) for i in range(0, len(path), SEGMENT)]


def is_open(opened_on: date | None, closed_on: date | None, day: date) -> bool:
    """A unit works on `day` when it opened on or before it and closes after it
    (`OrgUnitQuerySet.open_on` is the same rule as a query)."""
    return (opened_on is None or opened_on <= day) and (closed_on is None or closed_on > day)


class UnitLevel(models.Model):
    """A configurable level name such as 省厅, 市局, 县局, 处室."""

    code = models.SlugField(_("编码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=30)
    name_en = models.CharField(_("英文名称"), max_length=60, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("单位层级")
        verbose_name_plural = _("单位层级")

    def __str__(self) -> str:
        return self.name


class Rank(models.Model):
    """A civil-service rank (职级). Lower `order` is more senior; duty rules compare orders."""

    code = models.SlugField(_("编码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=30, unique=True)
    name_en = models.CharField(_("英文名称"), max_length=60, blank=True)
    order = models.PositiveSmallIntegerField(_("排序（越小越高）"), unique=True)

    class Meta:
        ordering = ["order"]
        verbose_name = _("职级")
        verbose_name_plural = _("职级")

    def __str__(self) -> str:
        return self.name

    def at_least(self, other: "Rank") -> bool:
        """True when this rank is as senior as `other` or more."""
        return self.order <= other.order


# A unit's code is in its addresses (/org/units/<code>/, /accounts/units/<code>/roles/, …) and in
# file names: "/" would split the address (the page answered 500), "." and ".." are path steps a
# browser removes, "?", "#", "%" and spaces must be escaped wherever a code is pasted. So: ASCII
# letters and digits, Chinese characters (basic block and extension A), and - _ . after the
# first character. Full-width letters are left out on purpose: "ＨＧ" would be a unit apart
# from "HG" that nobody can tell from it.
_CODE_START = "A-Za-z0-9\u3400-\u4dbf\u4e00-\u9fff"
UNIT_CODE_PATTERN = f"^[{_CODE_START}][{_CODE_START}._-]*\\Z"
ERR_UNIT_CODE = N_(
    "单位编码只能由字母、数字、汉字和 - _ . 组成，并以字母、数字或汉字开头"
    "（编码会出现在网址中，不能含 /、空格、# 等符号），请修改。"
)
unit_code_validator = RegexValidator(UNIT_CODE_PATTERN, _(ERR_UNIT_CODE), code="unit_code")


def in_post_q(day: date, prefix: str = "") -> Q:
    """People in post on `day`: joined on or before it and not yet left (`Person.is_active_on`
    as a query; `prefix` reaches a person through a relation)."""
    return (
        Q(**{f"{prefix}active_from__isnull": True}) | Q(**{f"{prefix}active_from__lte": day})
    ) & (Q(**{f"{prefix}left_on__isnull": True}) | Q(**{f"{prefix}left_on__gt": day}))


class OrgUnitQuerySet(models.QuerySet):
    def subtree_of(self, unit: "OrgUnit") -> "OrgUnitQuerySet":
        low, high = subtree_bounds(unit.path)
        return self.filter(path__gte=low, path__lt=high)

    def open_on(self, day: date) -> "OrgUnitQuerySet":
        """Units expected to work on `day`: opened on or before it and not yet closed."""
        return self.filter(Q(opened_on__isnull=True) | Q(opened_on__lte=day)).filter(
            Q(closed_on__isnull=True) | Q(closed_on__gt=day)
        )


class OrgUnit(models.Model):
    """A node of the organisation: a department, bureau, division or an epidemic command."""

    code = models.CharField(
        _("单位编码"), max_length=40, unique=True, validators=[unit_code_validator]
    )
    name = models.CharField(_("单位名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    level = models.ForeignKey(UnitLevel, on_delete=models.PROTECT, verbose_name=_("层级"))
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级单位"),
    )
    path = models.CharField(max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=1, editable=False)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    opened_on = models.DateField(_("启用日期"), null=True, blank=True)
    closed_on = models.DateField(_("撤销日期"), null=True, blank=True)
    first_responsible = models.ForeignKey(
        "org.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="responsible_for",
        verbose_name=_("第一责任人"),
    )
    liaisons = models.ManyToManyField(
        "org.Person", blank=True, related_name="liaison_for", verbose_name=_("联络员")
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(default=clock.now, editable=False)

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True)
                | Q(opened_on__isnull=True)
                | Q(closed_on__gt=models.F("opened_on")),
                name="unit_closes_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    def ancestor_ids(self) -> list[int]:
        return ancestor_ids(self.path)

    def is_open_on(self, day: date) -> bool:
        return is_open(self.opened_on, self.closed_on, day)


class ReportingLine(models.Model):
    """An extra superior outside the unit's own branch, e.g. a county epidemic command."""

    unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, related_name="reporting_lines", verbose_name=_("单位")
    )
    superior = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="extra_reporters",
        verbose_name=_("报送对象"),
    )
    name = models.CharField(_("报送线名称"), max_length=60, blank=True)
    active_from = models.DateField(_("开始日期"), null=True, blank=True)
    active_until = models.DateField(_("结束日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("附加报送线")
        verbose_name_plural = _("附加报送线")
        constraints = [
            models.UniqueConstraint(fields=["unit", "superior"], name="uniq_reporting_line"),
            models.CheckConstraint(condition=~Q(unit=models.F("superior")), name="line_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} → {self.superior}"


class Role(models.TextChoices):
    """Explicitly assigned roles. Liaison and first responsible person come from the unit itself."""

    ADMIN = "admin", _("系统管理员")
    COORDINATOR = "coordinator", _("协调员")
    DUTY_OFFICER = "duty_officer", _("值班员")
    AUDITOR = "auditor", _("审计人员")
    # Named by the unit's liaison to stand in for them: the liaison's capabilities at that unit.
    DEPUTY_LIAISON = "deputy_liaison", _("副联络员")


class RoleAssignment(models.Model):
    """A role held by a user over a unit's subtree (admin and auditor need no unit).

    Read only by the scope module (`org.selectors`), written only by `org.services`. The table
    keeps the name it had when this model lived in `accounts`.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        db_table = "accounts_roleassignment"
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


class GroupRole(models.TextChoices):
    """Places in a unit's epidemic leading group (疫情防控领导小组)."""

    LEADER = "leader", _("组长")
    DEPUTY = "deputy", _("副组长")
    MEMBER = "member", _("成员")
    OFFICE = "office", _("办公室联系人")


# Roles one person holds at a time: appointing a successor closes the holder's seat.
SINGLE_SEAT_ROLES = frozenset({GroupRole.LEADER, GroupRole.OFFICE})


class LeadingGroupSeatQuerySet(models.QuerySet):
    def on(self, day: date) -> "LeadingGroupSeatQuerySet":
        """Seats held on `day` (both ends inclusive)."""
        return self.filter(valid_from__lte=day).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=day)
        )


class LeadingGroupSeat(models.Model):
    """One person's place in a unit's leading group over a dated period.

    Rows are never rewritten: a change closes the current seat (its `valid_to`, the last day) and
    opens another, so the group on any past day can be read back.
    """

    unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="leading_group", verbose_name=_("单位")
    )
    person = models.ForeignKey(
        "org.Person",
        on_delete=models.PROTECT,
        related_name="leading_group_seats",
        verbose_name=_("人员"),
    )
    role = models.CharField(_("职务"), max_length=10, choices=GroupRole.choices)
    duty = models.CharField(_("分工或说明"), max_length=100, blank=True)
    phone = models.CharField(_("办公电话"), max_length=30, blank=True)
    valid_from = models.DateField(_("起始日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    objects = LeadingGroupSeatQuerySet.as_manager()

    class Meta:
        ordering = ["unit_id", "valid_from", "id"]
        verbose_name = _("领导小组成员")
        verbose_name_plural = _("领导小组成员")
        indexes = [models.Index(fields=["unit", "valid_from"], name="group_seat_unit_from")]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="group_seat_ends_after_start",
            ),
            # One open 组长 and one open office contact per unit (the service closes the last one).
            models.UniqueConstraint(
                fields=["unit", "role"],
                condition=Q(valid_to__isnull=True, role__in=["leader", "office"]),
                name="one_open_single_seat",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.get_role_display()} · {self.person}"


class PoliticalStatus(models.TextChoices):
    CPC_MEMBER = "cpc", _("中共党员")
    CPC_PROBATIONARY = "cpc_probationary", _("中共预备党员")
    LEAGUE = "league", _("共青团员")
    OTHER_PARTY = "other_party", _("民主党派")
    MASSES = "masses", _("群众")


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Person(models.Model):
    """A staff member. The ID number is encrypted at rest, hashed for uniqueness, shown masked."""

    unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="people", verbose_name=_("单位")
    )
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    post = models.CharField(_("职务"), max_length=60, blank=True)
    rank = models.ForeignKey(
        Rank, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("职级")
    )
    mobile = models.CharField(_("手机号码"), max_length=20, blank=True)
    # The employer's own number for the person (工号); one of the rules for account usernames.
    staff_number = models.CharField(_("工号"), max_length=30, blank=True)
    id_number_encrypted = models.TextField(blank=True, editable=False)
    id_number_hash = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )
    id_number_masked = models.CharField(_("身份证号"), max_length=24, blank=True, editable=False)
    political_status = models.CharField(
        _("政治面貌"),
        max_length=20,
        choices=PoliticalStatus.choices,
        default=PoliticalStatus.MASSES,
    )
    active_from = models.DateField(_("入职日期"), null=True, blank=True)
    left_on = models.DateField(_("离职日期"), null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="person",
        verbose_name=_("登录账号"),
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["unit__path", "id"]
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        indexes = [
            models.Index(fields=["unit", "left_on"], name="person_unit_left"),
            # Platform sign-in finds a person by the mobile the platform returns.
            models.Index(fields=["mobile"], name="person_mobile"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["staff_number"],
                condition=~Q(staff_number=""),
                name="uniq_person_staff_number",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_party_member(self) -> bool:
        return self.political_status in {
            PoliticalStatus.CPC_MEMBER,
            PoliticalStatus.CPC_PROBATIONARY,
        }

    def is_active_on(self, day: date) -> bool:
        return (self.active_from is None or self.active_from <= day) and (
            self.left_on is None or self.left_on > day
        )


class Relation(models.TextChoices):
    SPOUSE = "spouse", _("配偶")
    FATHER = "father", _("父亲")
    MOTHER = "mother", _("母亲")
    CHILD = "child", _("子女")
    PARENT_IN_LAW = "parent_in_law", _("岳父母/公婆")
    GRANDPARENT = "grandparent", _("祖父母/外祖父母")
    SIBLING = "sibling", _("兄弟姐妹")
    OTHER_RELATIVE = "other_relative", _("其他亲属")
    CO_RESIDENT = "co_resident", _("同住人（非亲属）")


class FamilyMemberQuerySet(models.QuerySet):
    def expected_on(self, day: date) -> "FamilyMemberQuerySet":
        """Members whose check-in is due on `day`: the one rule for the household's expected set.

        A change a staff member records counts from the next day (`active_from` is the day after
        an addition; `expected_until` is the day a move-out was recorded), so a day already begun
        keeps the set it started with.
        """
        return self.filter(
            Q(active_from__isnull=True) | Q(active_from__lte=day),
            Q(expected_until__isnull=True) | Q(expected_until__gte=day),
        )


class FamilyMember(models.Model):
    """A family member or co-resident whose health the staff member reports daily.

    Never deleted once the household declares it: moving out is dated (`moved_out_on`, as the
    staff member states it) and ends the check-in after the day it was recorded.
    """

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="family", verbose_name=_("职工")
    )
    name = models.CharField(_("姓名"), max_length=50)
    relation = models.CharField(_("关系"), max_length=20, choices=Relation.choices)
    lives_with = models.BooleanField(_("是否同住"), default=True)
    birth_year = models.PositiveSmallIntegerField(_("出生年份"), null=True, blank=True)
    mobile = models.CharField(_("手机号码"), max_length=20, blank=True)
    # Empty for members registered by the roster (expected from the start).
    active_from = models.DateField(_("纳入打卡日期"), null=True, blank=True)
    moved_out_on = models.DateField(_("迁出日期"), null=True, blank=True)
    expected_until = models.DateField(_("打卡截止日期"), null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    objects = FamilyMemberQuerySet.as_manager()

    class Meta:
        ordering = ["person_id", "id"]
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")

    def __str__(self) -> str:
        return f"{self.name}（{self.get_relation_display()}）"

    @property
    def moved_out(self) -> bool:
        return self.moved_out_on is not None


class RosterUpload(models.Model):
    """An uploaded roster file (名册) awaiting confirmation; the bytes are kept encrypted until then."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("待确认")
        APPLIED = "applied", _("已导入")
        FAILED = "failed", _("未通过校验")

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("上传人"),
    )
    original_name = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("大小（字节）"), default=0)
    # Fernet-encrypted file bytes (the file holds ID numbers in clear); emptied once applied or failed.
    content = models.BinaryField(editable=False, default=b"")
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.PREVIEWED
    )
    summary = models.JSONField(_("校验摘要"), default=dict, blank=True)
    created_at = models.DateTimeField(_("上传时间"), default=clock.now, editable=False)
    applied_at = models.DateTimeField(_("导入时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("名册上传")
        verbose_name_plural = _("名册上传")

    def __str__(self) -> str:
        return self.original_name
