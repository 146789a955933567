"""{% sso_buttons %}: a sign-in button per configured platform, for the login page."""

from django import template
from django.utils.translation import gettext as _

from fangkong.sso import selectors
from fangkong.sso.adapter import platform_name

register = template.Library()


@register.inclusion_tag("sso/_buttons.html", takes_context=True)
def sso_buttons(context):
    request = context["request"]
    buttons = [
        {
            "id": p.id,
            "url": p.get_login_url(request),
            "label": p.label or _("%(name)s登录") % {"name": platform_name(p)},
        }
        for p in selectors.platforms(request)
    ]
    return {"buttons": buttons, "next": context.get("next", "")}
