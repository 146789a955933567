"""Reads of accounts, narrowed to the acting user."""

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.accounts.models import ApiToken, User
from fangkong.lib import clock
from fangkong.org.selectors import CAP_USERS_MANAGE, has_global

ERR_LEFT = N_(
    "您已于 {day} 离职，账号自当日起停用。如已复职，请联系本单位联络员在名册中更新离职日期。"
)
ERR_INACTIVE = N_("该账号已停用，请联系本单位系统管理员。")


def left_on(user) -> date | None:
    """The day the user's person left, when that day has come (server clock), else None."""
    person = getattr(user, "person", None)
    if person is None or person.left_on is None or person.left_on > clock.today():
        return None
    return person.left_on


def can_sign_in(user) -> bool:
    """Active, and not a person whose left date has come. Reinstating (clearing or moving the
    left date) gives access back: nothing else was changed when they left."""
    return bool(getattr(user, "is_active", False)) and left_on(user) is None


@dataclass(frozen=True)
class NoSignIn:
    """Why a user with the right password still may not sign in."""

    code: str
    message: str


def why_no_sign_in(user) -> NoSignIn:
    day = left_on(user)
    if day is not None:
        return NoSignIn("left", _(ERR_LEFT).format(day=day.isoformat()))
    return NoSignIn("inactive", _(ERR_INACTIVE))


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
