"""{% load screen %}{% education_posts user %}: the latest education posts for the user."""

from django import template

from fangkong.screen import selectors

register = template.Library()


@register.inclusion_tag("screen/_education_posts.html")
def education_posts(user, limit: int = selectors.HOME_POSTS):
    """The `limit` latest posts the user should see (their units and everywhere-posts)."""
    return {"posts": list(selectors.posts_visible_to(user)[:limit])}
