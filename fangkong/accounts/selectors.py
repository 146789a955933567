"""Reads of accounts, narrowed to the acting user."""

from django.db.models import QuerySet
from django.http import Http404

from fangkong.accounts.models import ApiToken, User
from fangkong.org.selectors import CAP_USERS_MANAGE, has_global


def tokens_for(user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def get_token_for(user, token_id: int) -> ApiToken:
    token = tokens_for(user).filter(pk=token_id).first()
    if token is None:
        raise Http404("no such token")
    return token


def can_manage_users(user) -> bool:
    return has_global(user, CAP_USERS_MANAGE)


def users_for(user) -> QuerySet[User]:
    """Accounts an administrator may manage (nobody else manages accounts)."""
    if not has_global(user, CAP_USERS_MANAGE):
        return User.objects.none()
    return User.objects.select_related("person", "person__unit").order_by("username")


def get_user_for(user, user_id: int) -> User:
    target = users_for(user).filter(pk=user_id).first()
    if target is None:
        raise Http404("no such user")
    return target
