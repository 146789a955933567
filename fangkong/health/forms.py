"""The check-in form: one section per subject (the staff member, then each family member)."""

import uuid
from decimal import Decimal

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fangkong.health.models import Contact, ExemptionKind, Quarantine, Symptom, WorkMode
from fangkong.health.services import (
    ERR_NOT_ATTESTED,
    ERR_TEMPERATURE_RANGE,
    ERR_TEMPERATURE_REQUIRED,
    Answers,
    answer_errors,
)
from fangkong.lib.forms import Form

YES_NO = [("0", _("否")), ("1", _("是"))]


class SubjectForm(Form):
    """One person's health answers. Nothing is pre-filled from earlier days except the city."""

    temperature = forms.DecimalField(
        label=_("体温（℃）"),
        min_value=Decimal("34.0"),
        max_value=Decimal("42.5"),
        max_digits=3,
        decimal_places=1,
        widget=forms.NumberInput(
            attrs={"step": "0.1", "inputmode": "decimal", "placeholder": "例如 36.5"}
        ),
        error_messages={
            "required": _(ERR_TEMPERATURE_REQUIRED),
            "invalid": _("请填写数字，例如 36.5。"),
            "min_value": _(ERR_TEMPERATURE_RANGE),
            "max_value": _(ERR_TEMPERATURE_RANGE),
        },
    )
    symptoms = forms.MultipleChoiceField(
        label=_("今日症状（没有则不选）"),
        choices=Symptom.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    symptom_other = forms.CharField(label=_("其他症状说明"), max_length=100, required=False)
    contact = forms.ChoiceField(
        label=_("14天内接触史"), choices=Contact.choices, initial="none", widget=forms.RadioSelect
    )
    risk_travel = forms.TypedChoiceField(
        label=_("14天内是否到过或来自中高风险地区"),
        choices=YES_NO,
        coerce=lambda v: v == "1",
        initial="0",
        widget=forms.RadioSelect,
    )
    quarantine = forms.ChoiceField(
        label=_("是否处于隔离或医学观察"), choices=Quarantine.choices, initial="none"
    )
    quarantine_place = forms.CharField(label=_("隔离地点"), max_length=100, required=False)
    quarantine_start = forms.DateField(
        label=_("隔离开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, subject_name: str, family_member_id: int | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.subject_name = subject_name
        self.family_member_id = family_member_id

    def clean(self):
        """The service's own rules (quarantine place and start, the start's window), shown on the
        field they concern."""
        data = super().clean()
        if self.errors:
            return data
        problems = answer_errors(
            self.answers(attested=True), is_staff_member=self.family_member_id is None
        )
        for name, message in problems.items():
            if name in self.fields:
                self.add_error(name, gettext(message))
        return data

    def answers(self, *, attested: bool) -> Answers:
        d = self.cleaned_data
        return Answers(
            family_member_id=self.family_member_id,
            temperature=d["temperature"],
            symptoms=d["symptoms"],
            symptom_other=d["symptom_other"],
            contact=d["contact"],
            risk_travel=d["risk_travel"],
            quarantine=d["quarantine"],
            quarantine_place=d["quarantine_place"],
            quarantine_start=d["quarantine_start"],
            attested=attested,
        )


class SelfForm(SubjectForm):
    """The staff member's own section adds today's work mode and location."""

    work_mode = forms.ChoiceField(
        label=_("今日工作方式"),
        choices=WorkMode.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择今日工作方式。")},
    )
    current_city = forms.CharField(label=_("当前所在城市"), max_length=50, required=False)
    out_of_town = forms.TypedChoiceField(
        label=_("当前是否不在工作地"),
        choices=YES_NO,
        coerce=lambda v: v == "1",
        initial="0",
        widget=forms.RadioSelect,
    )

    def answers(self, *, attested: bool) -> Answers:
        a = super().answers(attested=attested)
        a.work_mode = self.cleaned_data["work_mode"]
        a.current_city = self.cleaned_data["current_city"]
        a.out_of_town = self.cleaned_data["out_of_town"]
        return a


class AttestForm(Form):
    """The attestation and the one-time submission key that makes a double click harmless."""

    attested = forms.BooleanField(
        label=_("本人承诺以上信息真实准确，如有隐瞒愿承担相应责任。"),
        error_messages={"required": _(ERR_NOT_ATTESTED)},
    )
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    @staticmethod
    def new_key() -> str:
        return uuid.uuid4().hex


class CorrectionForm(Form):
    reason = forms.CharField(
        label=_("更正原因"),
        max_length=200,
        error_messages={"required": _("截止后更正必须填写更正原因。")},
    )


class CaseUpdateForm(Form):
    to_status = forms.ChoiceField(label=_("状态"))
    note = forms.CharField(
        label=_("跟踪记录"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写跟踪记录。")},
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = choices


class ExemptionForm(Form):
    kind = forms.ChoiceField(label=_("类型"), choices=ExemptionKind.choices)
    start = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(
        label=_("结束日期（可空）"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", gettext("结束日期不能早于开始日期。"))
        return data
