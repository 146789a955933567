"""The audit trail page: administrators browse and filter every event."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.http import urlencode

from fangkong.audit import actions
from fangkong.audit.selectors import audit_events_for
from fangkong.lib import plausible
from fangkong.org.selectors import CAP_AUDIT_VIEW, has_global


def _day(request, value: str):
    """A filter day; a malformed or far one is said and left out of the filter."""
    try:
        return plausible.query_day(value, None)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return None


@login_required
def events(request):
    if not has_global(request.user, CAP_AUDIT_VIEW):
        raise Http404("not an administrator")
    f = {
        k: request.GET.get(k, "").strip()
        for k in ("action", "actor", "object_type", "date_from", "date_to")
    }
    qs = audit_events_for(
        request.user,
        action=f["action"],
        actor=f["actor"],
        object_type=f["object_type"],
        date_from=_day(request, f["date_from"]),
        date_to=_day(request, f["date_to"]),
    )
    page = Paginator(qs.select_related("actor__person"), 50).get_page(request.GET.get("page"))
    for event in page:
        event.action_label = actions.label(event.action)
    query = urlencode({k: v for k, v in f.items() if v})
    return render(
        request,
        "audit/events.html",
        {"page": page, "f": f, "query": query, "actions": actions.AuditAction.choices},
    )
