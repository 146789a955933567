"""Pages for education posts, display links and the big screen (电子大屏)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from fangkong.lib import clock
from fangkong.org import selectors as org
from fangkong.reports import selectors as reports
from fangkong.screen import selectors, services
from fangkong.screen.forms import LinkForm, PostForm

REFRESH_MS = 60_000
RELOAD_MS = 30 * 60_000
ROTATE_MS = 10_000
NEW_LINK_KEY = "screen.new_link"


def _posted_unit(request):
    """The unit a POST aims at, looked up before the form is validated: outside the user's
    subtree (or unknown) is a 404, like every other scope miss."""
    code = request.POST.get("unit", "") if request.method == "POST" else ""
    return org.get_unit_for(request.user, code, selectors.MANAGE_CAP) if code else None


# --- education posts ----------------------------------------------------------------------


@login_required
def posts(request):
    user = request.user
    selectors.require_manager(user)
    form = PostForm(
        request.POST or None,
        units=selectors.units_to_target(user),
        everywhere=org.has_global(user, selectors.MANAGE_CAP),
    )
    unit = _posted_unit(request)
    if request.method == "POST" and form.is_valid():
        published_from, published_until = form.window()
        try:
            services.post_create(
                actor=user,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                source=form.cleaned_data["source"],
                unit=unit,
                published_from=published_from,
                published_until=published_until,
            )
        except PermissionDenied as exc:
            raise Http404("not allowed") from exc
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("宣教内容已发布。"))
            return redirect("screen:posts")
    return render(
        request,
        "screen/posts.html",
        {"form": form, "posts": selectors.posts_managed_by(user)[:200], "now": clock.now()},
    )


@login_required
@require_POST
def post_unpublish(request, post_id: int):
    post = selectors.get_post_for(request.user, post_id)
    services.post_unpublish(actor=request.user, post=post)
    messages.success(request, _("已停止展示。"))
    return redirect("screen:posts")


# --- display links ------------------------------------------------------------------------


@login_required
def links(request):
    user = request.user
    selectors.require_manager(user)
    units = selectors.units_to_target(user)
    report_forms = reports.forms_for(user)
    form = LinkForm(request.POST or None, units=units, report_forms=report_forms)
    # The new link's URL survives one redirect in the session, then is gone for good.
    new_url = request.session.pop(NEW_LINK_KEY, None) if request.method == "GET" else None
    node = _posted_unit(request)
    if request.method == "POST" and form.is_valid():
        try:
            _link, raw = services.display_link_create(
                actor=user,
                node=node,
                form=form.cleaned_data["form"],
                name=form.cleaned_data["name"],
            )
        except PermissionDenied as exc:
            raise Http404("not allowed") from exc
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            url = request.build_absolute_uri(reverse("screen:display", args=[raw]))
            request.session[NEW_LINK_KEY] = url
            return redirect("screen:links")
    return render(
        request,
        "screen/links.html",
        {
            "form": form,
            "links": selectors.links_for(user)[:200],
            "new_url": new_url,
            "previews": org.granted_units(user, selectors.MANAGE_CAP),
        },
    )


@login_required
@require_POST
def link_revoke(request, link_id: int):
    link = selectors.get_link_for(request.user, link_id)
    services.display_link_revoke(actor=request.user, link=link)
    messages.success(request, _("显示链接已停用。"))
    return redirect("screen:links")


# --- the big screen -----------------------------------------------------------------------


def _screen(request, *, node, form, data_url: str, display: bool):
    labels = {
        "completeness": _("完整率"),
        "timeliness": _("及时率"),
        "late": _("迟报"),
        "missing": _("漏报"),
        "reported": _("填报"),
        "derived": _("打卡"),
        "none_overdue": _("今日暂无迟报、漏报单位"),
        "more": _("另有 {n} 个单位未列出"),
        "no_posts": _("暂无宣教内容"),
        "updated": _("数据更新于 {t}"),
        "offline": _("网络连接中断，显示的是 {t} 的数据"),
        "gone": _("此大屏链接已停用或无权查看，请联系管理员。"),
        "units": _("个"),
        "people": _("人"),
        "no_children": _("无下级报送单位"),
    }
    return render(
        request,
        "screen/screen.html",
        {
            "node": node,
            "form": form,
            "data": selectors.screen_data(form, node),
            "labels": labels,
            "data_url": data_url,
            "display": display,
            "refresh_ms": REFRESH_MS,
            "reload_ms": RELOAD_MS,
            "rotate_ms": ROTATE_MS,
            "tz": settings.TIME_ZONE,
        },
    )


def _json(form, node):
    return JsonResponse(
        selectors.screen_data(form, node), json_dumps_params={"ensure_ascii": False}
    )


@never_cache
@login_required
def unit_screen(request, code: str):
    node = org.get_unit_for(request.user, code)
    form = selectors.screen_form_for(request.user, node, request.GET.get("form"))
    data_url = reverse("screen:unit_data", args=[node.code]) + f"?form={form.pk}"
    return _screen(request, node=node, form=form, data_url=data_url, display=False)


@never_cache
@login_required
def unit_screen_data(request, code: str):
    node = org.get_unit_for(request.user, code)
    form = selectors.screen_form_for(request.user, node, request.GET.get("form"))
    return _json(form, node)


def _private(response):
    # The token is in the URL: never send it on as a referrer, never index the page.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
def display(request, token: str):
    link = selectors.link_for_token(token)
    services.display_link_seen(link=link)
    # An office display has no user to choose a language: it speaks the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        response = _screen(
            request,
            node=link.node,
            form=link.form,
            data_url=reverse("screen:display_data", args=[token]),
            display=True,
        )
    return _private(response)


@never_cache
def display_data(request, token: str):
    link = selectors.link_for_token(token)
    services.display_link_seen(link=link)
    with translation.override(settings.LANGUAGE_CODE):
        response = _json(link.form, link.node)
    return _private(response)
