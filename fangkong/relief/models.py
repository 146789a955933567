"""Relief-fund audit: projects and teams, imported source files, the catalogue, findings.

The ledger rows themselves live in one Parquet file per import, read through DuckDB
(`fangkong/relief/ledger/store.py`); everything here is small and transactional.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.lib import clock


class AuditProject(models.Model):
    """A follow-up audit (跟踪审计) of epidemic funds and materials, seen only by its team."""

    name = models.CharField(_("项目名称"), max_length=200)
    scope = models.TextField(_("审计范围"), blank=True)
    period_start = models.DateField(_("审计期间起"))
    period_end = models.DateField(_("审计期间止"))
    bodies = models.TextField(
        _("参与单位"), blank=True, help_text=_("每行一个，如 财政局、民政局、红十字会、慈善总会")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)
    # Per-project values of the test catalogue's parameters: {test id: {parameter: value}}.
    test_params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("审计项目")
        verbose_name_plural = _("审计项目")

    def __str__(self) -> str:
        return self.name

    def body_list(self) -> list[str]:
        return [b.strip() for b in self.bodies.splitlines() if b.strip()]


class MemberRole(models.TextChoices):
    LEAD = "lead", _("组长")
    MEMBER = "member", _("组员")


class ProjectMember(models.Model):
    """A member of a project's audit team; only members see the project's data."""

    project = models.ForeignKey(AuditProject, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(
        _("角色"), max_length=8, choices=MemberRole.choices, default=MemberRole.MEMBER
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="one_membership")]

    def __str__(self) -> str:
        return f"{self.project} / {self.user}"


def _source_path(instance, filename: str) -> str:
    return f"relief/p{instance.project_id}/files/{instance.sha256[:16]}-{filename}"


class SourceFile(models.Model):
    """An uploaded ledger file, kept as received with its SHA-256; rows point back to it."""

    project = models.ForeignKey(AuditProject, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    content = models.FileField(upload_to=_source_path, max_length=400)
    body = models.CharField(_("提供单位"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "sha256"], name="file_once_per_project")
        ]

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    PREVIEW = "preview", _("待确认")
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已导入")
    FAILED = "failed", _("失败")
    DISCARDED = "discarded", _("已放弃")


class LedgerImport(models.Model):
    """One sheet of a source file read as one ledger kind with a column mapping."""

    project = models.ForeignKey(AuditProject, on_delete=models.CASCADE, related_name="imports")
    source = models.ForeignKey(SourceFile, on_delete=models.CASCADE, related_name="imports")
    sheet = models.CharField(_("工作表"), max_length=100, blank=True)
    kind = models.CharField(_("台账类型"), max_length=20, blank=True)
    header_row = models.PositiveIntegerField(_("表头所在行"), default=1)  # 1-based, last header row
    header_rows = models.PositiveSmallIntegerField(default=1)
    title = models.CharField(_("标题"), max_length=200, blank=True)  # the rows above the header
    headers = models.JSONField(default=list)  # combined header text per column
    mapping = models.JSONField(default=dict)  # column index (str) → field name
    scales = models.JSONField(default=dict)  # column index (str) → multiplier (万元 columns)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.PREVIEW
    )
    total_rows = models.PositiveIntegerField(default=0)
    done_rows = models.PositiveIntegerField(default=0)
    skipped_rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)  # [{row, column, field, value, message}]
    preview = models.JSONField(default=list)  # first rows as parsed, for the preview table
    message = models.TextField(blank=True)
    parquet = models.CharField(max_length=400, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last sign of life of the worker checking it (queued, progress): an import queued or
    # running with none for RELIEF_IMPORT_STALE_MINUTES was abandoned by a dead worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source.name} [{self.sheet}]"

    @property
    def progress(self) -> int:
        return int(100 * self.done_rows / self.total_rows) if self.total_rows else 0


class ColumnSynonym(models.Model):
    """An auditor's addition to the header dictionary: this header means that field."""

    project = models.ForeignKey(
        AuditProject, on_delete=models.CASCADE, related_name="synonyms", null=True, blank=True
    )
    header = models.CharField(_("表头"), max_length=100)
    field = models.CharField(_("对应字段"), max_length=30)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "header"], name="one_meaning_per_header")
        ]

    def __str__(self) -> str:
        return f"{self.header} → {self.field}"


class PartyKind(models.TextChoices):
    DONOR = "donor", _("捐赠方")
    CHARITY = "charity", _("慈善组织/红十字会")
    GOVERNMENT = "government", _("政府部门")
    WAREHOUSE = "warehouse", _("仓库")
    HOSPITAL = "hospital", _("医院")
    SUPPLIER = "supplier", _("供应商")
    PERSON = "person", _("个人")
    OTHER = "other", _("其他")


class Party(models.Model):
    """One donor, receiver, warehouse, hospital, supplier or person, however ledgers spell it."""

    project = models.ForeignKey(AuditProject, on_delete=models.CASCADE, related_name="parties")
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(
        _("类型"), max_length=12, choices=PartyKind.choices, default=PartyKind.OTHER
    )
    designated = models.BooleanField(_("定点救治医院"), default=False)
    beds = models.PositiveIntegerField(_("床位数"), null=True, blank=True)
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class PartyName(models.Model):
    """A spelling seen in the ledgers, attached to a party; fuzzy matches wait for confirmation."""

    project = models.ForeignKey(AuditProject, on_delete=models.CASCADE, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="names")
    key = models.CharField(max_length=200)  # parsing.normalise_party
    raw = models.CharField(_("原文"), max_length=200)
    score = models.PositiveSmallIntegerField(default=100)  # 100: same key; below: a fuzzy match
    confirmed = models.BooleanField(default=False)

    class Meta:
        ordering = ["raw"]
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="one_party_per_key")]

    def __str__(self) -> str:
        return self.raw


class Grade(models.TextChoices):
    MEDICAL_PROTECTIVE = "medical", _("医用防护（GB 19083）")
    SURGICAL = "surgical", _("医用外科（YY 0469）")
    CIVIL = "civil", _("民用/KN95（GB 2626）")
    OTHER = "other", _("其他")


class Item(models.Model):
    """An item of relief goods with its standard, grade and pieces per pack."""

    project = models.ForeignKey(AuditProject, on_delete=models.CASCADE, related_name="items")
    name = models.CharField(_("物资名称"), max_length=200)
    base_uom = models.CharField(_("基本单位"), max_length=10, default="只")
    standard = models.CharField(_("执行标准"), max_length=40, blank=True)
    grade = models.CharField(_("等级"), max_length=10, choices=Grade.choices, default=Grade.OTHER)
    priority = models.BooleanField(_("重点保障物资"), default=False)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ItemName(models.Model):
    """A name under which ledgers record an item."""

    project = models.ForeignKey(AuditProject, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="names")
    key = models.CharField(max_length=200)
    raw = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="one_item_per_key")]

    def __str__(self) -> str:
        return self.raw


class UnitConversion(models.Model):
    """How many base units one pack unit holds for an item (箱 = 20 只)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="conversions")
    uom = models.CharField(_("单位"), max_length=10)
    factor = models.PositiveIntegerField(_("折合基本单位数"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "uom"], name="one_factor_per_uom")]

    def __str__(self) -> str:
        return f"1{self.uom} = {self.factor}{self.item.base_uom}"


class Severity(models.TextChoices):
    HIGH = "high", _("高")
    MEDIUM = "medium", _("中")
    LOW = "low", _("低")


class FindingStatus(models.TextChoices):
    OPEN = "open", _("待复核")
    CONFIRMED = "confirmed", _("已确认")
    DISMISSED = "dismissed", _("已排除")


class Finding(models.Model):
    """A problem found by a test or by hand, with the amount at risk and its evidence rows."""

    project = models.ForeignKey(AuditProject, on_delete=models.CASCADE, related_name="findings")
    test_id = models.CharField(_("测试编号"), max_length=40, blank=True)  # blank: added by hand
    title = models.CharField(_("问题"), max_length=300)
    description = models.TextField(_("说明"), blank=True)
    severity = models.CharField(
        _("严重程度"), max_length=8, choices=Severity.choices, default=Severity.MEDIUM
    )
    amount_fen = models.BigIntegerField(_("涉及金额（分）"), null=True, blank=True)
    quantity = models.BigIntegerField(_("涉及数量"), null=True, blank=True)
    rule = models.TextField(_("依据"), blank=True)
    status = models.CharField(
        max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    reason = models.TextField(_("排除理由"), blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)  # same rows + test → same finding
    run = models.ForeignKey(
        "CatalogueRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="findings"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "fingerprint"], name="finding_fingerprint")]

    def __str__(self) -> str:
        return self.title

    @property
    def amount_yuan(self):
        from decimal import Decimal

        return None if self.amount_fen is None else Decimal(self.amount_fen) / 100


class Evidence(models.Model):
    """One ledger row a finding rests on: file, sheet and row, as the auditor can open it."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="evidence")
    source = models.ForeignKey(SourceFile, on_delete=models.PROTECT, related_name="+")
    sheet = models.CharField(max_length=100, blank=True)
    row_no = models.PositiveIntegerField()
    row_id = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["source_id", "row_no"]

    def __str__(self) -> str:
        return f"{self.source.name} {self.sheet} 第{self.row_no}行"


class FindingNote(models.Model):
    """An auditor's annotation on a finding."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:50]


class CatalogueRun(models.Model):
    """A run of the test catalogue: which tests, with which parameters, on which data (hash)."""

    project = models.ForeignKey(AuditProject, on_delete=models.CASCADE, related_name="runs")
    tests = models.JSONField(default=list)
    parameters = models.JSONField(default=dict)
    snapshot = models.CharField(max_length=64)  # hash of the imported files' SHA-256s
    status = models.CharField(max_length=10, default="running")
    counts = models.JSONField(default=dict)  # test id → findings
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    started_at = models.DateTimeField(default=clock.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.project} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def lease_name(self) -> str:
        """The job lease a worker holds while it executes this run (selectors.with_states)."""
        return f"relief.catalogue.run.{self.pk}"
