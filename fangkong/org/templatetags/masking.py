"""Template filters that mask personal identifiers (the one masking code: fangkong.lib.masking)."""

from django import template

from fangkong.lib.masking import mask_mobile, mask_username

register = template.Library()


@register.filter(name="mask_mobile")
def mask_mobile_filter(value):
    """138****5678, or — when there is no number."""
    return mask_mobile(value) or "—"


@register.filter(name="mask_username")
def mask_username_filter(value):
    """A username that is a number (often a mobile) masked; a handle as it is."""
    return mask_username(value)
