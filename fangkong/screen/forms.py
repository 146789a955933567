"""Forms for the education-post and display-link pages.

The unit is posted as its code and looked up with `get_unit_for`, so a unit outside the user's
subtree answers 404 like every other scope miss, not a form error.
"""

from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.lib import clock, plausible
from fangkong.lib.forms import Form
from fangkong.org.models import SEGMENT
from fangkong.screen.models import POST_BODY_MAX


def unit_choices(units, *, everywhere: bool) -> list[tuple[str, str]]:
    top = min((len(u.path) for u in units), default=SEGMENT)
    choices = [("", _("全部单位"))] if everywhere else []
    for u in units:
        indent = "\u3000" * ((len(u.path) - top) // SEGMENT)
        choices.append((u.code, f"{indent}{u.name}"))
    return choices


class PostForm(Form):
    title = forms.CharField(label=_("标题"), max_length=60)
    body = forms.CharField(
        label=_("正文"),
        max_length=POST_BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": POST_BODY_MAX}),
        help_text=_("不超过 300 字。"),
    )
    source = forms.CharField(
        label=_("来源"), max_length=60, required=False, help_text=_("例如：国家卫生健康委")
    )
    unit = forms.CharField(label=_("展示范围（含下级）"), required=False)
    published_from = forms.DateField(
        label=_("开始日期"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    published_until = forms.DateField(
        label=_("结束日期（含当日，可不填）"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )

    def __init__(self, *args, units, everywhere: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.everywhere = everywhere
        self.fields["unit"].widget = forms.Select(
            choices=unit_choices(units, everywhere=everywhere)
        )
        self.fields["published_from"].initial = clock.today()

    def clean(self):
        data = super().clean()
        if not data.get("unit") and not self.everywhere:
            self.add_error("unit", _("请选择展示范围。"))
        for name in ("published_from", "published_until"):
            problem = plausible.date_problem(data[name], plausible.FORM) if data.get(name) else None
            if problem:
                self.add_error(name, problem)
        start, end = data.get("published_from"), data.get("published_until")
        if start and end and end < start:
            self.add_error("published_until", _("结束日期不能早于开始日期。"))
        return data

    def window(self):
        """The publication window as datetimes: from the start day, until the end of the end day."""
        start = self.cleaned_data["published_from"]
        end = self.cleaned_data.get("published_until")
        today = clock.today()
        published_from = clock.now() if start == today else clock.day_start(start)
        published_until = clock.day_start(end + timedelta(days=1)) if end else None
        return published_from, published_until


class LinkForm(Form):
    name = forms.CharField(label=_("屏幕名称"), max_length=60, help_text=_("例如：3楼大厅屏幕"))
    unit = forms.CharField(label=_("显示哪个单位"))
    form = forms.ModelChoiceField(label=_("报表"), queryset=None, empty_label=None)

    def __init__(self, *args, units, report_forms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget = forms.Select(choices=unit_choices(units, everywhere=False))
        self.fields["form"].queryset = report_forms
