"""Notice pages: inbox of notices, publish, read and acknowledge, receipts rolled up by unit."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.lib import clock
from fangkong.notices import selectors, services
from fangkong.notices.forms import NoticeForm
from fangkong.notices.models import NoticeRecipient
from fangkong.org import selectors as org


@login_required
def notice_list(request):
    notices = list(selectors.notices_for(request.user).select_related("unit")[:200])
    receipts = {
        r.notice_id: r
        for r in NoticeRecipient.objects.filter(
            user=request.user, notice__in=[n.pk for n in notices]
        )
    }
    can_publish = bool(org.units_for(request.user, org.CAP_CHASE).exists())
    # The board also names who leads the epidemic work where the reader works (领导小组).
    nearest = org.nearest_leading_group(org.own_person(request.user), clock.today())
    return render(
        request,
        "notices/list.html",
        {
            "rows": [(n, receipts.get(n.pk)) for n in notices],
            "can_publish": can_publish,
            "group_unit": nearest[0] if nearest else None,
            "group": nearest[1] if nearest else None,
        },
    )


@login_required
def notice_new(request):
    units = selectors.publish_units_for(request.user)
    if not units:
        raise Http404("not a coordinator")
    form = NoticeForm(request.POST or None, request.FILES or None, units=units)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            notice = services.notice_publish(
                actor=request.user,
                unit=org.get_unit_for(request.user, d["unit"], org.CAP_CHASE),
                title=d["title"],
                body=d["body"],
                kind=d["kind"],
                audiences=d["audiences"],
                requires_ack=d["requires_ack"],
                ack_by=d["ack_by"],
                files=[(f.name, f.read()) for f in d["files"]],
            )
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("通知已下发。"))
            return redirect("notices:receipts", notice_id=notice.pk)
    return render(request, "notices/new.html", {"form": form})


@login_required
def notice_detail(request, notice_id: int):
    notice = selectors.get_notice_for(request.user, notice_id)
    receipt = selectors.receipt_of(request.user, notice)
    if receipt is not None and receipt.read_at is None:
        services.notice_read(actor=request.user, notice=notice)
        receipt.refresh_from_db()
    return render(
        request,
        "notices/detail.html",
        {
            "notice": notice,
            "receipt": receipt,
            "attachments": notice.attachments.only("id", "name", "size"),
            "can_oversee": selectors.can_oversee(request.user, notice),
        },
    )


@login_required
@require_POST
def notice_ack(request, notice_id: int):
    notice = selectors.get_notice_for(request.user, notice_id)
    if selectors.receipt_of(request.user, notice) is None:
        raise Http404("not a recipient")
    services.notice_acknowledge(user=request.user, notice=notice)
    messages.success(request, _("已确认收到。"))
    return redirect("notices:detail", notice_id=notice.pk)


@login_required
def notice_receipts(request, notice_id: int):
    notice = selectors.get_notice_for(request.user, notice_id)
    if not selectors.can_oversee(request.user, notice):
        raise Http404("not the publisher's scope")
    rows = selectors.receipts_rollup(notice)
    total = {k: sum(r[k] for r in rows) for k in ("total", "read", "acked")}
    return render(
        request,
        "notices/receipts.html",
        {
            "notice": notice,
            "rows": rows,
            "total": total,
            "missing": selectors.missing_acks(notice)[:300] if notice.requires_ack else [],
        },
    )


@login_required
def attachment(request, notice_id: int, attachment_id: int):
    notice = selectors.get_notice_for(request.user, notice_id)
    file = notice.attachments.filter(pk=attachment_id).first()
    if file is None:
        raise Http404("no such attachment")
    response = HttpResponse(bytes(file.content), content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, file.name)
    return response
