"""The audit trail page: administrators browse and filter every event."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.dateparse import parse_date

from fangkong.audit.selectors import audit_events_for
from fangkong.org.selectors import CAP_AUDIT_VIEW, has_global


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
        date_from=parse_date(f["date_from"]) if f["date_from"] else None,
        date_to=parse_date(f["date_to"]) if f["date_to"] else None,
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = "&".join(f"{k}={v}" for k, v in f.items() if v)
    return render(request, "audit/events.html", {"page": page, "f": f, "query": query})
