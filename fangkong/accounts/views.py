"""Account pages: sign-in, password, personal API tokens, and user administration."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from django.views.decorators.http import require_POST

from fangkong.accounts import selectors, services
from fangkong.accounts.forms import TokenCreateForm

MSG_PASSWORD_CHANGED = N_("密码已修改。")
MSG_TOKENS_REVOKED = N_(
    "您的 {n} 个 API 令牌已随密码修改一并吊销；脚本需要时请在“个人设置”中创建新令牌。"
)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


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
