"""Forms of the org pages: the household list a staff member keeps, and the leading group."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.org.models import Relation


class FamilyMemberForm(forms.Form):
    """Add a family member or co-resident (they join the daily check-in from tomorrow)."""

    name = forms.CharField(label=_("姓名"), max_length=50)
    relation = forms.ChoiceField(label=_("关系"), choices=Relation.choices)
    lives_with = forms.TypedChoiceField(
        label=_("是否同住"),
        choices=[("1", _("同住")), ("0", _("不同住"))],
        coerce=lambda v: v == "1",
        initial="1",
        widget=forms.RadioSelect,
    )
    birth_year = forms.IntegerField(
        label=_("出生年份（选填）"),
        required=False,
        min_value=1900,
        max_value=2100,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "placeholder": _("例如 1960"), "maxlength": 4}
        ),
    )


class MoveOutForm(forms.Form):
    moved_out_on = forms.DateField(
        label=_("迁出日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
