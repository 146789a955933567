"""Account pages: sign-in, password, personal API tokens, and user administration."""

import io
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, password_validation, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from fangkong.accounts import provisioning, selectors, services, slips, throttle
from fangkong.accounts.forms import (
    AccountBatchForm,
    ActivateForm,
    RoleGrantForm,
    SignInForm,
    TokenCreateForm,
)
from fangkong.accounts.models import AccountBatch
from fangkong.lib import clock
from fangkong.lib.request_context import ip_from_request
from fangkong.org import selectors as org_selectors
from fangkong.org import services as org_services

MSG_PASSWORD_CHANGED = N_("密码已修改。")
MSG_TOKENS_REVOKED = N_(
    "您的 {n} 个 API 令牌已随密码修改一并吊销；脚本需要时请在“个人设置”中创建新令牌。"
)


MSG_UNLOCK_SENT = N_(
    "如果该账号登记了手机号码（或邮箱），验证码已发出，约 1 分钟内送达，{minutes} 分钟内有效。"
    "请在下方填写密码和验证码后登录。"
)
MSG_UNLOCK_NEEDS_USERNAME = N_("请先填写用户名，再获取短信验证码。")


class LoginView(auth_views.LoginView):
    """Sign-in; a trusted-browser cookie on success, the lock-out reason and SMS code on refusal."""

    template_name = "accounts/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        throttle.set_device_cookie(response, form.get_user())
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if isinstance(form.refusal, throttle.Refusal):
            response.status_code = 429
        elif form.refusal is not None:
            response.status_code = 403
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context["show_unlock"] = isinstance(getattr(form, "refusal", None), throttle.Refusal) or (
            self.request.method == "POST" and bool(self.request.POST.get("unlock_code"))
        )
        return context


@require_POST
def unlock(request):
    """Send a sign-in code by SMS to the account typed in the sign-in (or activation) form, whose
    获取短信验证码 button posts the form here; the same page comes back with the code field. The
    answer is the same whether or not the account exists or has a mobile number."""
    username = request.POST.get("username", "").strip()[:150]
    nonce = request.COOKIES.get(throttle.UNLOCK_COOKIE) or secrets.token_urlsafe(24)
    if username:
        services.unlock_code_send(username=username, address=ip_from_request(request), nonce=nonce)
        messages.info(request, _(MSG_UNLOCK_SENT).format(minutes=settings.SIGNIN_UNLOCK_MINUTES))
    else:
        messages.error(request, _(MSG_UNLOCK_NEEDS_USERNAME))
    if request.GET.get("page") == "activate":
        form = ActivateForm(request, initial={"username": username})
        context = {
            "form": form,
            "password_help": password_validation.password_validators_help_texts(),
            "unlock_page": "activate",
        }
        template = "accounts/activate.html"
    else:
        form = SignInForm(request, initial={"username": username})
        context = {"form": form, "next": request.POST.get("next", "")}
        template = "accounts/login.html"
    response = render(request, template, context | {"show_unlock": True})
    response.set_cookie(
        throttle.UNLOCK_COOKIE,
        nonce,
        max_age=86400,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


logout_view = auth_views.LogoutView.as_view()


@login_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        revoked = services.user_set_password(
            actor=request.user, user=request.user, password=form.cleaned_data["new_password1"]
        )
        update_session_auth_hash(request, request.user)
        messages.success(request, _(MSG_PASSWORD_CHANGED))
        if revoked:
            messages.warning(request, _(MSG_TOKENS_REVOKED).format(n=revoked))
        return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form})


@login_required
def tokens(request):
    form = TokenCreateForm(request.POST or None)
    raw = None
    if request.method == "POST" and form.is_valid():
        _token, raw = services.token_create(
            actor=request.user, user=request.user, name=form.cleaned_data["name"]
        )
        form = TokenCreateForm()
    return render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "raw": raw,
            "tokens": selectors.tokens_for(request.user),
        },
    )


@login_required
@require_POST
def token_revoke(request, token_id: int):
    token = selectors.get_token_for(request.user, token_id)
    services.token_revoke(actor=request.user, token=token)
    messages.success(request, _("令牌已吊销。"))
    return redirect("accounts:tokens")


@login_required
def users(request):
    qs = selectors.users_for(request.user)
    if not selectors.can_manage_users(request.user):
        raise Http404("not an administrator")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(person__name__icontains=q))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/users.html", {"page": page, "q": q})


@login_required
@require_POST
def user_reset_password(request, user_id: int):
    target = selectors.get_user_for(request.user, user_id)
    temporary = services.user_reset_password(actor=request.user, user=target)
    return render(
        request, "accounts/password_reset_done.html", {"target": target, "temporary": temporary}
    )


MSG_ACTIVATED = N_("账号已激活，欢迎使用防控系统。以后请用用户名和刚设置的密码登录。")


def activate(request):
    """A new account's first visit: username + activation code, then the person's own password.
    Public; the code is never put in a URL (it would land in access logs and browser history)."""
    form = ActivateForm(
        request, request.POST or None, initial={"username": request.GET.get("u", "")[:150]}
    )
    if request.method == "POST" and form.is_valid() and form.code is not None:
        user = services.account_activate(
            code=form.code, password=form.cleaned_data["new_password1"]
        )
        if user is None:
            form.add_error(None, _(services.ERR_ACTIVATION_USED))
        else:
            login(request, user, backend="fangkong.accounts.backends.SignInBackend")
            throttle.record_sign_in(request, user.username, throttle.Gate())
            messages.success(request, _(MSG_ACTIVATED))
            response = redirect("home")
            throttle.set_device_cookie(response, user)
            return response
    refused = isinstance(form.refusal, throttle.Refusal)
    return render(
        request,
        "accounts/activate.html",
        {
            "form": form,
            "show_unlock": refused or bool(request.POST.get("unlock_code")),
            "password_help": password_validation.password_validators_help_texts(),
            "unlock_page": "activate",
        },
        status=429 if refused else 200,
    )


# --- Accounts from the roster. ---

MSG_BATCH_QUEUED = N_("已开始在后台开通账号，可以离开本页，稍后回来查看结果。")


@login_required
def unit_accounts(request, code: str):
    """A unit's accounts: how many people can sign in, and opening accounts for the rest."""
    unit = selectors.get_unit_for_accounts(request.user, code)
    form = AccountBatchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        batch = provisioning.account_batch_start(
            actor=request.user, unit=unit, delivery=form.cleaned_data["delivery"]
        )
        if batch.status == AccountBatch.Status.QUEUED:
            messages.info(request, _(MSG_BATCH_QUEUED))
        return redirect("accounts:batch", batch_id=batch.pk)
    return render(
        request,
        "accounts/unit_accounts.html",
        {
            "unit": unit,
            "form": form,
            "summary": selectors.account_summary(unit),
            "batches": selectors.batches_for(request.user)
            .filter(unit=unit)
            .select_related("created_by")[:10],
            "rule": _(provisioning.RULES.get(settings.ACCOUNT_USERNAME_RULE, "")),
            "can_roles": bool(org_selectors.roles_grantable(request.user, unit)),
        },
    )


@login_required
def batch(request, batch_id: int):
    item = selectors.get_batch_for(request.user, batch_id)
    return render(
        request,
        "accounts/batch.html",
        {
            "batch": item,
            "problems": [p | {"text": provisioning.problem_text(p)} for p in item.problems[:500]],
            "summary": selectors.account_summary(item.unit),
        },
    )


@login_required
def batch_progress(request, batch_id: int):
    """The progress bar while the worker opens accounts; when done, the page reloads."""
    item = selectors.get_batch_for(request.user, batch_id)
    if item.status not in (AccountBatch.Status.QUEUED, AccountBatch.Status.RUNNING):
        if request.htmx:
            return HttpResponseClientRefresh()
        return redirect("accounts:batch", batch_id=item.pk)
    return render(request, "accounts/_batch_progress.html", {"batch": item})


@login_required
@require_POST
def unit_slips(request, code: str):
    """Print the unit's activation slips: new codes for every account waiting for one on paper."""
    unit = selectors.get_unit_for_accounts(request.user, code)
    try:
        issued, expires = slips.slips_issue(actor=request.user, unit=unit)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("accounts:unit_accounts", code=unit.code)
    pdf = slips.slips_pdf(unit=unit, slips=issued, expires=expires)
    name = f"激活凭条-{unit.code}-{clock.today():%Y%m%d}.pdf"
    response = FileResponse(io.BytesIO(pdf), as_attachment=True, filename=name)
    response["Cache-Control"] = "no-store"  # it holds live codes: no copy in any cache
    return response


# --- Roles at a unit. ---

MSG_ROLE_GRANTED = N_("已将{role}授予 {name}，对方下次打开页面时生效。")
MSG_ROLE_WITHDRAWN = N_("已撤销 {name} 的{role}角色，立即生效（其 API 令牌同时收窄）。")


@login_required
def unit_roles(request, code: str):
    """Who holds which role at a unit; grant the roles the user may grant (POST)."""
    unit, grantable = org_selectors.get_unit_for_roles(request.user, code)
    labels = org_selectors.ROLE_LABELS
    choices = [(r, _(labels[r])) for r in org_selectors.UNIT_ROLES if r in grantable]
    form = RoleGrantForm(
        request.POST or None, grantable=choices, candidates=org_selectors.role_candidates(unit)
    )
    if request.method == "POST":
        if request.POST.get("role") not in grantable:
            raise Http404("not a role this user may grant here")
        if form.is_valid():
            person = form.cleaned_data["person"]
            role = form.cleaned_data["role"]
            try:
                org_services.role_grant(actor=request.user, unit=unit, role=role, person=person)
            except ValidationError as exc:
                form.add_error(None, exc.messages[0])
            else:
                label = _(labels[role])
                messages.success(request, _(MSG_ROLE_GRANTED).format(role=label, name=person.name))
                return redirect("accounts:unit_roles", code=unit.code)
    return render(
        request,
        "accounts/unit_roles.html",
        {
            "unit": unit,
            "holders": org_selectors.role_holders(unit),
            "grantable": grantable,
            "form": form,
            "can_accounts": org_selectors.can(
                request.user, org_selectors.CAP_ACCOUNTS_MANAGE, unit
            ),
        },
    )


@login_required
@require_POST
def unit_role_revoke(request, code: str):
    unit, grantable = org_selectors.get_unit_for_roles(request.user, code)
    role = request.POST.get("role", "")
    try:
        holder_id = int(request.POST.get("holder", ""))
    except ValueError:
        raise Http404("no such holder") from None
    holder = next(
        (
            h
            for h in org_selectors.role_holders(unit)
            if h.role == role and h.holder_id == holder_id
        ),
        None,
    )
    if role not in grantable or holder is None:
        raise Http404("no such holder")
    org_services.role_withdraw(actor=request.user, unit=unit, role=role, holder_id=holder_id)
    messages.success(request, _(MSG_ROLE_WITHDRAWN).format(name=holder.name, role=holder.label))
    return redirect("accounts:unit_roles", code=unit.code)
