"""Template helpers of the notify app.

`{% load notify_tags %}{% inbox_unread_count user as n %}` for the inbox link in the top bar;
`{{ message|recipient }}` for the outbox lists, with mobile numbers masked as in every list.
"""

from django import template

from fangkong.lib.masking import mask_mobile
from fangkong.notify.models import ChannelKind, Message
from fangkong.notify.selectors import inbox_unread_count as _unread

register = template.Library()


@register.simple_tag
def inbox_unread_count(user) -> int:
    return _unread(user)


@register.filter
def recipient(message: Message) -> str:
    """Where a message goes, for display: mobiles masked (an SMS number, robot mentions)."""
    if message.channel == ChannelKind.SMS:
        return mask_mobile(message.address)
    if message.channel in {ChannelKind.WECOM, ChannelKind.DINGTALK}:
        name, sep, mobiles = message.address.partition(":")
        masked = ",".join(mask_mobile(m.strip()) for m in mobiles.split(",") if m.strip())
        return f"{name}{sep}{masked}"
    if message.address:
        return message.address
    return str(message.user) if message.user_id else "—"
