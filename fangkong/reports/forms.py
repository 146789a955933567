"""Forms for submitting, reviewing, unlocking and signal notes."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from fangkong.lib.forms import Form
from fangkong.reports.models import ReportForm


class ReportValuesForm(Form):
    """One integer field per figure of the report form, pre-filled from the check-ins."""

    TEXT_FIELDS = ("explanation", "narrative", "measures", "correction_reason")

    explanation = forms.CharField(
        label=_("与打卡数据不一致的说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    narrative = forms.CharField(
        label=_("情况说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    measures = forms.CharField(
        label=_("采取的防控措施"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    correction_reason = forms.CharField(
        label=_("更正原因"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, report_form: ReportForm, derived: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.figure_fields = []
        for f in report_form.fields:
            name = f"v_{f['key']}"
            self.fields[name] = forms.IntegerField(
                label=f["label"],
                min_value=0,
                initial=derived.get(f.get("derive", ""), 0),
                error_messages={
                    "required": _("请填写数字（没有填 0）。"),
                    "min_value": _("不能小于 0。"),
                    "invalid": _("请填写整数。"),
                },
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
            )
            self.fields[name].derived = derived.get(f.get("derive", ""), 0)
            self.fields[name].group = f.get("group", "")
            self.figure_fields.append(name)

    def add_service_error(self, exc) -> None:
        """Show a service's error on the field it names (figures are keyed without "v_")."""
        if not isinstance(exc, ValidationError) or not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for key, errors in exc.error_dict.items():
            name = f"v_{key}" if f"v_{key}" in self.fields else key
            self.add_error(name if name in self.fields else NON_FIELD_ERRORS, errors)

    def values(self) -> dict[str, int]:
        return {name[2:]: self.cleaned_data[name] for name in self.figure_fields}

    def figures(self):
        return [self[name] for name in self.figure_fields]


class ReviewForm(Form):
    action = forms.ChoiceField(
        choices=[("accept", _("通过")), ("return", _("退回"))],
        widget=forms.RadioSelect,
        label=_("审核"),
    )
    comment = forms.CharField(
        label=_("意见"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    missing_children_reason = forms.CharField(
        label=_("下级缺报仍通过的原因"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class UnlockForm(Form):
    reason = forms.CharField(label=_("解锁原因"), widget=forms.Textarea(attrs={"rows": 2}))
    hours = forms.IntegerField(label=_("有效时长（小时）"), min_value=1, max_value=72, initial=24)


class SignalReviewForm(Form):
    signal = forms.CharField(widget=forms.HiddenInput)
    unit = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("核查情况"), widget=forms.Textarea(attrs={"rows": 2}))
