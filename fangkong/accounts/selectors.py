"""Reads of accounts, narrowed to the acting user."""

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.accounts.models import AccessCode, AccountBatch, ApiToken, User
from fangkong.lib import clock
from fangkong.lib.db import one_or_none
from fangkong.org import selectors as org
from fangkong.org.models import OrgUnit, Person
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


# --- Accounts from the roster: a unit's accounts and the batches that made them. ---


def get_unit_for_accounts(user, code: str) -> OrgUnit:
    """A unit whose accounts the user manages (coordinators of its subtree, administrators)."""
    return org.get_unit_for(user, code, org.CAP_ACCOUNTS_MANAGE)


def account_summary(unit: OrgUnit) -> dict[str, int]:
    """People in post in the subtree: with no account, never activated (a code on its way by
    SMS, or waiting for a printed slip) and activated; one aggregate query."""
    from fangkong.accounts.provisioning import active_q, live_activation_q

    sms = AccessCode.objects.filter(
        live_activation_q(), user=OuterRef("user_id"), channel=AccessCode.Channel.SMS
    )
    unusable = Q(user__password__startswith=UNUSABLE_PASSWORD_PREFIX)
    return (
        Person.objects.filter(unit__in=OrgUnit.objects.subtree_of(unit).values("pk"))
        .filter(active_q())
        .annotate(sms=Exists(sms))
        .aggregate(
            people=Count("id"),
            no_account=Count("id", filter=Q(user__isnull=True)),
            activated=Count("id", filter=Q(user__isnull=False) & ~unusable),
            by_sms=Count("id", filter=unusable & Q(sms=True)),
            waiting_slip=Count("id", filter=unusable & Q(sms=False)),
        )
    )


def batches_for(user) -> QuerySet[AccountBatch]:
    """Batches of units whose accounts the user manages."""
    if not org.holds(user, org.CAP_ACCOUNTS_MANAGE):
        return AccountBatch.objects.none()
    q = org.scope_q(user, org.CAP_ACCOUNTS_MANAGE, prefix="unit__")
    return AccountBatch.objects.all() if q is None else AccountBatch.objects.filter(q)


def get_batch_for(user, batch_id: int) -> AccountBatch:
    batch = one_or_none(batches_for(user).select_related("unit", "created_by").filter(pk=batch_id))
    if batch is None:
        raise Http404("no such batch")
    return batch
