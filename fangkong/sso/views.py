"""Platform sign-in pages: confirm a first binding, and the per-unit sign-in adoption page."""

import time

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from fangkong.lib.masking import mask_mobile
from fangkong.org import selectors as org
from fangkong.org.models import Person
from fangkong.sso import selectors, services
from fangkong.sso.adapter import MODEL_BACKEND, PENDING_KEY, refusal


def _pending(request) -> dict | None:
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    if time.time() - float(pending.get("at", 0)) > settings.SSO_CONFIRM_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    return pending


@require_http_methods(["GET", "POST"])
def confirm(request):
    """The person confirms once that the platform identity is theirs; then it signs them in."""
    pending = _pending(request)
    if pending is None:
        return refusal(request, services.ERR_CONFIRM_EXPIRED)
    person = Person.objects.select_related("unit", "user").filter(pk=pending["person"]).first()
    if request.method == "POST":
        request.session.pop(PENDING_KEY, None)
        if request.POST.get("action") != "confirm":
            return render(request, "sso/declined.html", {"platform": pending["platform"]})
        # Check again: the roster may have changed while the page was open.
        match = services.identity_match(mobile=person.mobile if person else None)
        if person is None or match.person != person or match.reason:
            return refusal(request, services.ERR_CONFIRM_EXPIRED)
        services.identity_bind(
            person=person,
            provider=pending["provider"],
            uid=pending["uid"],
            extra_data=pending["extra_data"],
        )
        services.sign_in_recorded(user=person.user, provider=pending["provider"])
        login(request, person.user, backend=MODEL_BACKEND)
        target = pending.get("next") or ""
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
            target = settings.LOGIN_REDIRECT_URL
        return redirect(target)
    if person is None:
        return refusal(request, services.ERR_CONFIRM_EXPIRED)
    return render(
        request,
        "sso/confirm.html",
        {
            "pending": pending,
            "person": person,
            "mobile_masked": mask_mobile(person.mobile),
        },
    )


@login_required
def adoption(request):
    """Per unit: staff in post, accounts, activated, signed in this week, never signed in."""
    user = request.user
    code = request.GET.get("node")
    if code:
        node = org.get_unit_for(user, code, org.CAP_PEOPLE_VIEW)
    else:
        roots = [u for u in org.root_units_for(user) if org.can(user, org.CAP_PEOPLE_VIEW, u)]
        if not roots:
            raise Http404("no units to show")
        node = roots[0]
    crumbs = list(org.units_for(user).filter(pk__in=node.ancestor_ids()[:-1]).order_by("path"))
    return render(
        request,
        "sso/adoption.html",
        {
            "page": selectors.adoption(node),
            "node": node,
            "crumbs": crumbs,
            "week_start": selectors.week_start(),
            "duplicates": selectors.duplicate_mobiles(user, node),
            "refusals": selectors.recent_refusals(user),
            "platforms": selectors.platforms(request),
        },
    )
