"""The publish form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.lib.forms import Form
from fangkong.notices.models import Audience, NoticeKind


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class NoticeForm(Form):
    kind = forms.ChoiceField(label=_("类型"), choices=NoticeKind.choices)
    title = forms.CharField(label=_("标题"), max_length=200)
    body = forms.CharField(label=_("正文"), widget=forms.Textarea(attrs={"rows": 8}))
    unit = forms.ChoiceField(label=_("下发范围（含下级单位）"))
    audiences = forms.MultipleChoiceField(
        label=_("接收对象"),
        choices=Audience.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Audience.LIAISON, Audience.LEADER],
    )
    requires_ack = forms.BooleanField(label=_("需要接收人确认收到"), required=False)
    ack_by = forms.DateTimeField(
        label=_("确认截止时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    files = MultipleFileField(
        label=_("附件（可多选，每个不超过 10 MB）"), required=False, widget=MultipleFileInput
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.code, u.name) for u in units]
