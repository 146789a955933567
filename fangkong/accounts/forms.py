"""Forms for accounts pages."""

from django import forms
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

from fangkong.lib.forms import Form

ERR_PASSWORDS_DIFFER = N_("两次输入的密码不一致，请重新输入。")
# The same text as services.ERR_ROLE_GRANTEE_OUTSIDE (a person not offered in the form).
ERR_GRANTEE = N_("只能把本单位的角色授予本单位或下级单位的在职人员。")


class TokenCreateForm(Form):
    name = forms.CharField(
        label=_("令牌用途"),
        max_length=100,
        help_text=_("例如：每日报表脚本。令牌只显示一次，请妥善保存。"),
    )


class SignInForm(Form, AuthenticationForm):
    """Django's sign-in form with the optional SMS code that lets a locked-out browser in.

    When the lock-out rules refuse the attempt, the form's error is their reason (with how long to
    wait) and `refusal` holds it, so the page can offer the code.
    """

    unlock_code = forms.CharField(label=_("短信验证码"), required=False, max_length=12)

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.refusal = None

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            self.user_cache = authenticate(
                self.request,
                username=username,
                password=password,
                unlock_code=self.cleaned_data.get("unlock_code", ""),
            )
            if self.user_cache is None:
                refusal = getattr(self.request, "fk_refusal", None)
                if refusal is not None:
                    self.refusal = refusal
                    raise ValidationError(refusal.message, code=refusal.code)
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class ActivateForm(Form):
    """First sign-in with an activation code: the person chooses their own password.

    Codes are typed under the same lock-out rules as passwords (kind "activate"); `refusal`
    holds the rules' reason when they refuse.
    """

    username = forms.CharField(label=_("用户名"), max_length=150)
    code = forms.CharField(label=_("激活码"), max_length=40)
    new_password1 = forms.CharField(
        label=_("设置密码"), strip=False, widget=forms.PasswordInput(render_value=False)
    )
    new_password2 = forms.CharField(
        label=_("再次输入密码"), strip=False, widget=forms.PasswordInput(render_value=False)
    )
    unlock_code = forms.CharField(label=_("短信验证码"), required=False, max_length=12)

    def __init__(self, request, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.refusal = None
        self.code = None

    def clean(self):
        from fangkong.accounts import services, throttle
        from fangkong.accounts.models import User
        from fangkong.accounts.selectors import can_sign_in, why_no_sign_in
        from fangkong.lib.db import one_or_none

        data = self.cleaned_data
        username, typed = data.get("username"), data.get("code")
        if not username or not typed:
            return data
        user = one_or_none(User.objects.select_related("person").filter(username=username))
        checked = throttle.gate(
            self.request,
            username,
            throttle.ACTIVATE,
            user=user,
            unlock_code=data.get("unlock_code", ""),
        )
        if checked.refusal is not None:
            self.refusal = checked.refusal
            raise ValidationError(checked.refusal.message, code=checked.refusal.code)
        code, error = services.activation_code_check(user=user, typed=typed)
        if code is None:
            if error == services.ERR_ACTIVATION_INVALID:
                throttle.record_failure(self.request, username, throttle.ACTIVATE, checked)
            raise ValidationError(_(error), code="code")
        if not can_sign_in(user):
            raise ValidationError(why_no_sign_in(user).message, code="left")
        one, two = data.get("new_password1"), data.get("new_password2")
        if one and two and one != two:
            self.add_error("new_password2", ValidationError(_(ERR_PASSWORDS_DIFFER)))
            return data
        if one:
            try:
                password_validation.validate_password(one, user)
            except ValidationError as e:
                self.add_error("new_password1", e)
                return data
        if checked.unlock is not None:
            services.access_code_use(code=checked.unlock)
        self.code = code
        return data


class AccountBatchForm(Form):
    """Open accounts for everyone in post in a unit's subtree who has none."""

    delivery = forms.ChoiceField(
        label=_("激活码发放方式"),
        choices=[
            ("sms", _("短信发送激活码（没有手机号码的人员打印凭条）")),
            ("slip", _("全部打印凭条，由联络员分发")),
        ],
        initial="sms",
        widget=forms.RadioSelect,
    )


class RoleGrantForm(Form):
    """Grant one of the roles the acting user may grant at a unit to someone there."""

    role = forms.ChoiceField(label=_("角色"))
    person = forms.ModelChoiceField(
        label=_("人员"),
        queryset=None,
        error_messages={"invalid_choice": _(ERR_GRANTEE)},
    )

    def __init__(self, *args, grantable: list[tuple[str, str]], candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = grantable
        self.fields["person"].queryset = candidates
        self.fields["person"].label_from_instance = lambda p: (
            f"{p.name}（{p.unit.name}）" + ("" if p.user_id else _("，尚无账号"))
        )
