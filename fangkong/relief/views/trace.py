"""Relief-audit pages (trace): follow a donation forward, a recipient back, and open one ledger row.

Every page looks the project up through `selectors.get_project_for`, so outsiders get the same 404
as for a project that does not exist; the reads themselves are in `fangkong.relief.trace`.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render

from fangkong.relief import selectors, trace

PER_PAGE = 50


def _page_number(value) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


@login_required
def trace_index(request, pk: int):
    project = selectors.get_project_for(request.user, pk)
    q = request.GET.get("q", "").strip()[:100]
    gaps_only = request.GET.get("gaps") == "1"
    page = _page_number(request.GET.get("page"))
    donations, found = trace.find_donations(
        project.pk, q, gaps_only=gaps_only, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
    )
    # A search for one exact ref goes straight to its trace.
    if q and found == 1 and donations and donations[0].ref.lower() == q.lower():
        return redirect(donations[0].url)
    pages = max(1, -(-found // PER_PAGE))
    return render(
        request,
        "relief/trace/index.html",
        {
            "project": project,
            "section": "trace",
            "q": q,
            "gaps_only": gaps_only,
            "donations": donations,
            "found": found,
            "page": min(page, pages),
            "pages": pages,
            "first_no": (page - 1) * PER_PAGE,
            "balances": trace.balances(project.pk),
            "sankey_url": trace.sankey_url(project.pk),
        },
    )


@login_required
def trace_donation(request, pk: int, ref: str):
    project = selectors.get_project_for(request.user, pk)
    ref = trace.ref_from_arg(ref)
    found = trace.donation_trace(project.pk, ref)
    if found is None:
        return render(
            request,
            "relief/trace/missing.html",
            {"project": project, "section": "trace", "ref": ref},
            status=404,
        )
    if found.ref != ref:  # a document number of one of its rows: show it under its own ref
        return redirect(found.url)
    chart = trace.trace_sankey(found)
    return render(
        request,
        "relief/trace/donation.html",
        {
            "project": project,
            "section": "trace",
            "t": found,
            "steps": [s for s in found.steps if s.rows or s.expected],
            "sankey": chart.as_json(),
            "sankey_url": trace.sankey_url(project.pk, found.ref),
        },
    )


@login_required
def trace_recipient(request, pk: int, party_id: int):
    party = selectors.get_party_for(request.user, pk, party_id)
    project = party.project
    found = trace.recipient_trace(project.pk, party.pk)
    if found is None:
        raise Http404
    return render(
        request,
        "relief/trace/recipient.html",
        {"project": project, "section": "trace", "party": party, "r": found},
    )


@login_required
def sankey_data(request, pk: int, ref: str):
    """The chart's JSON: nodes and links in fen (?measure=money) or pieces (?measure=goods)."""
    project = selectors.get_project_for(request.user, pk)
    ref = trace.ref_from_arg(ref)
    measure = request.GET.get("measure")
    chart = trace.sankey(
        project.pk,
        None if ref == trace.ALL else ref,
        measure if measure in ("money", "goods") else None,
    )
    if chart is None:
        raise Http404
    return JsonResponse(chart.as_json())


@login_required
def row(request, pk: int, row_id: int):
    project = selectors.get_project_for(request.user, pk)
    found = trace.row_page(project.pk, row_id)
    if found is None:
        raise Http404
    return render(
        request,
        "relief/trace/row.html",
        {
            "project": project,
            "section": "trace",
            "lr": found,
            "r": found.row,
            "ref_url": trace.donation_url(project.pk, found.row.ref) if found.row.ref else "",
        },
    )
