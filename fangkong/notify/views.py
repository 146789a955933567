"""Notify pages: a user's in-app inbox, and the outbox overview for administrators."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.notify import selectors, services


@login_required
def inbox(request):
    page = Paginator(selectors.inbox_for(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "notify/inbox.html", {"page": page})


@login_required
def inbox_message(request, message_id: int):
    message = selectors.get_inbox_message_for(request.user, message_id)
    # Opening the message is reading it: the first opening records read_at.
    services.message_mark_read(user=request.user, message=message)
    return render(request, "notify/inbox_message.html", {"message": message})


@login_required
def outbox(request):
    overview = selectors.outbox_overview(request.user)
    return render(request, "notify/outbox.html", {"o": overview})


@login_required
@require_POST
def outbox_retry(request, message_id: int):
    message = selectors.get_outbox_message_for(request.user, message_id)
    if services.message_retry(actor=request.user, message=message):
        messages.success(request, _("已重新排队，将在一分钟内发送。"))
    else:
        messages.info(request, _("这条消息不是发送失败或发送中断状态，无需重试。"))
    return redirect("notify:outbox")
