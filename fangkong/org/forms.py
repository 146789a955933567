"""Forms of the org pages: the household list a staff member keeps, and the leading group."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.lib.forms import Form
from fangkong.org.models import GroupRole, Person, Relation


class FamilyMemberForm(Form):
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


class MoveOutForm(Form):
    moved_out_on = forms.DateField(
        label=_("迁出日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class AppointForm(Form):
    """Seat someone in the unit's leading group from a date."""

    role = forms.ChoiceField(label=_("职务"), choices=GroupRole.choices)
    person = forms.ModelChoiceField(label=_("人员"), queryset=Person.objects.none())
    duty = forms.CharField(label=_("分工或说明（选填）"), max_length=100, required=False)
    phone = forms.CharField(
        label=_("办公电话（选填，将公开显示）"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    valid_from = forms.DateField(
        label=_("起始日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["person"].label_from_instance = lambda p: (
            f"{p.name}（{p.unit.display_name}·{p.post or '—'}）"
        )


class EndSeatForm(Form):
    valid_to = forms.DateField(
        label=_("截止日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
