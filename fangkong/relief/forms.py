"""Forms of the relief-audit project pages: project, upload, column mapping, catalogue entries."""

from pathlib import Path

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from fangkong.lib.forms import Form
from fangkong.relief.ledger import importer, schema
from fangkong.relief.models import Grade, MemberRole, PartyKind

UPLOAD_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")
# Plausible maxima: the largest hospitals have some ten thousand beds; a pack of many thousand.
MAX_BEDS = 100_000
MAX_FACTOR = 1_000_000
NOT_IMPORTED = _lazy("（不导入）")


def kind_choices(blank: str | None = None) -> list[tuple[str, str]]:
    head = [("", blank)] if blank is not None else []
    return head + [(k.code, _(k.label)) for k in schema.KINDS.values()]


def field_choices(kind: str = "") -> list:
    """Every field, the current kind's required and optional ones first, so the likely pick is near."""
    spec = schema.KINDS.get(kind)
    required = list(spec.required) if spec else []
    optional = [f for f in spec.optional if f not in required] if spec else []
    rest = [f for f in schema.FIELDS if f not in required and f not in optional]

    def opts(names):
        return [(f, _(schema.FIELDS[f].label)) for f in names]

    if not spec:
        return [("", NOT_IMPORTED), *opts(rest)]
    return [
        ("", NOT_IMPORTED),
        (_("本类台账必需的列"), opts(required)),
        (_("本类台账常见的列"), opts(optional)),
        (_("其他"), opts(rest)),
    ]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class ProjectForm(Form):
    name = forms.CharField(label=_lazy("项目名称"), max_length=200)
    period_start = forms.DateField(label=_lazy("审计期间起"), widget=DateInput())
    period_end = forms.DateField(label=_lazy("审计期间止"), widget=DateInput())
    scope = forms.CharField(
        label=_lazy("审计范围"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    bodies = forms.CharField(
        label=_lazy("参与单位"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_lazy("每行一个，如 财政局、民政局、红十字会、慈善总会"),
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("审计期间的结束日期不能早于开始日期。"))
        return data


class UploadForm(Form):
    file = forms.FileField(
        label=_lazy("台账文件"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(UPLOAD_SUFFIXES)}),
        help_text=_lazy(
            "Excel（.xlsx、.xls）或 CSV 文件，按原样保存并记录 SHA-256；一个工作簿中的每张表分别识别。"
        ),
        error_messages={"required": _lazy("请选择要上传的台账文件。")},
    )
    body = forms.CharField(
        label=_lazy("提供单位"),
        max_length=200,
        required=False,
        help_text=_lazy("可不填，如 黄冈市红十字会"),
    )
    kind = forms.ChoiceField(
        label=_lazy("台账类型"),
        required=False,
        help_text=_lazy("通常不用选，系统按表头和文件名识别；识别不准时可在这里指定。"),
    )

    def __init__(self, *args, bodies: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kind_choices(blank=_("自动识别"))
        if bodies:
            self.fields["body"].widget.attrs["list"] = "project-bodies"
        self.bodies = list(bodies)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in UPLOAD_SUFFIXES:
            raise forms.ValidationError(
                _("只能上传 Excel（.xlsx、.xls）或 CSV 文件；其他格式请先用 Excel 另存为 .xlsx。")
            )
        return upload


class RemapForm(Form):
    """The ledger kind and, for every column of the header, the field it holds (or none)."""

    kind = forms.ChoiceField(label=_lazy("台账类型"))

    def __init__(self, *args, imp, **kwargs):
        super().__init__(*args, **kwargs)
        self.imp = imp
        kind = (self.data.get("kind") if self.is_bound else None) or imp.kind
        self.fields["kind"].choices = kind_choices(blank=_("请选择") if not imp.kind else None)
        self.fields["kind"].initial = imp.kind
        self.columns = []
        for c, header in enumerate(imp.headers):
            name = f"col_{c}"
            letter = importer.column_letter(c)
            self.fields[name] = forms.ChoiceField(
                label=header or letter,
                choices=field_choices(kind),
                required=False,
                initial=imp.mapping.get(str(c), ""),
                widget=forms.Select(
                    attrs={"aria-label": _("{letter} 列导入为").format(letter=letter)}
                ),
            )
            self.columns.append((letter, header, name))

    def column_rows(self):
        """(letter, header as written, bound field, label of the field it maps to now)."""
        out = []
        for letter, header, name in self.columns:
            current = self.imp.mapping.get(name.removeprefix("col_"))
            label = _(schema.FIELDS[current].label) if current in schema.FIELDS else ""
            out.append((letter, header, self[name], label))
        return out

    def clean(self):
        data = super().clean()
        seen: dict[str, str] = {}
        for letter, _header, name in self.columns:
            f = data.get(name)
            if not f:
                continue
            if f in seen:
                label = _(schema.FIELDS[f].label)
                self.add_error(
                    name,
                    _(
                        "「{label}」已对应 {other} 列，一个字段只能对应一列；请把其中一列改为“（不导入）”。"
                    ).format(label=label, other=seen[f]),
                )
            seen[f] = letter
        return data

    def mapping(self) -> dict[str, str]:
        return {
            name.removeprefix("col_"): self.cleaned_data[name]
            for _letter, _header, name in self.columns
            if self.cleaned_data.get(name)
        }


class MemberAddForm(Form):
    username = forms.ChoiceField(label=_lazy("审计人员账号"))
    role = forms.ChoiceField(
        label=_lazy("角色"), choices=MemberRole.choices, initial=MemberRole.MEMBER
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].choices = [("", _("请选择"))] + [
            (u.username, str(u)) for u in candidates
        ]


class PartyForm(Form):
    kind = forms.ChoiceField(label=_lazy("类型"), choices=PartyKind.choices)
    designated = forms.BooleanField(label=_lazy("定点救治医院"), required=False)
    beds = forms.IntegerField(
        label=_lazy("床位数"), required=False, min_value=0, max_value=MAX_BEDS
    )
    note = forms.CharField(
        label=_lazy("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class MergeForm(Form):
    into = forms.ChoiceField(label=_lazy("并入"))

    def __init__(self, *args, others, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].choices = [("", _("请选择同一单位的另一条目"))] + [
            (str(p.pk), f"{p.name}（{p.get_kind_display()}）") for p in others
        ]


class ItemForm(Form):
    """An item's grade and standard, and how many base units each pack unit holds.

    Units already seen (with or without a factor) are fixed rows; two blank rows add new ones.
    """

    grade = forms.ChoiceField(label=_lazy("等级"), choices=Grade.choices)
    standard = forms.CharField(label=_lazy("执行标准"), max_length=40, required=False)
    priority = forms.BooleanField(label=_lazy("重点保障物资"), required=False)
    base_uom = forms.CharField(
        label=_lazy("基本单位"),
        max_length=10,
        help_text=_lazy("数量折算成的最小单位，如 只、件、瓶"),
    )
    NEW_ROWS = 2

    def __init__(self, *args, uoms: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed = list(uoms)
        for i, _uom in enumerate(self.fixed):
            self.fields[f"factor_{i}"] = forms.IntegerField(
                required=False, min_value=1, max_value=MAX_FACTOR
            )
        for i in range(self.NEW_ROWS):
            self.fields[f"new_uom_{i}"] = forms.CharField(required=False, max_length=10)
            self.fields[f"new_factor_{i}"] = forms.IntegerField(
                required=False, min_value=1, max_value=MAX_FACTOR
            )

    def main_fields(self):
        return [self[n] for n in ("grade", "standard", "priority", "base_uom")]

    def fixed_rows(self):
        return [(uom, self[f"factor_{i}"]) for i, uom in enumerate(self.fixed)]

    def new_rows(self):
        return [(self[f"new_uom_{i}"], self[f"new_factor_{i}"]) for i in range(self.NEW_ROWS)]

    def clean(self):
        data = super().clean()
        base = (data.get("base_uom") or "").strip()
        for i in range(self.NEW_ROWS):
            uom = (data.get(f"new_uom_{i}") or "").strip()
            factor = data.get(f"new_factor_{i}")
            if uom and not factor:
                self.add_error(
                    f"new_factor_{i}",
                    _("请填写 1{uom} 折合多少{base}。").format(uom=uom, base=base),
                )
            if factor and not uom:
                self.add_error(f"new_uom_{i}", _("请填写单位，如 箱、盒。"))
            if uom and uom == base:
                self.add_error(f"new_uom_{i}", _("基本单位不需要换算。"))
        return data

    def conversions(self) -> dict[str, int]:
        """uom → factor; 0 removes a conversion that was cleared."""
        out = {uom: self.cleaned_data.get(f"factor_{i}") or 0 for i, uom in enumerate(self.fixed)}
        for i in range(self.NEW_ROWS):
            uom = (self.cleaned_data.get(f"new_uom_{i}") or "").strip()
            if uom:
                out[uom] = self.cleaned_data[f"new_factor_{i}"]
        return out

    def item_fields(self) -> dict:
        d = self.cleaned_data
        return {
            "grade": d["grade"],
            "standard": d["standard"].strip(),
            "priority": d["priority"],
            "base_uom": d["base_uom"].strip(),
        }


class SynonymForm(Form):
    header = forms.CharField(
        label=_lazy("表头文字"),
        max_length=100,
        help_text=_lazy("按文件中的写法填写，如 受捐单位、物资品名"),
    )
    field = forms.ChoiceField(label=_lazy("对应字段"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [("", _("请选择"))] + [
            (f.name, _(f.label)) for f in schema.FIELDS.values()
        ]
