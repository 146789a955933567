"""Forms for accounts pages."""

from django import forms
from django.utils.translation import gettext_lazy as _


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("令牌用途"),
        max_length=100,
        help_text=_("例如：每日报表脚本。令牌只显示一次，请妥善保存。"),
    )
