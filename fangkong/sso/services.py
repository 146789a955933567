"""Writes of platform sign-in: match an identity to a person, bind it once confirmed, record refusals.

A platform identity never creates an account. It is bound to the one person in post whose roster
mobile equals the mobile the platform returns, after that person confirms once; everything else is
refused with a message that says what to do, and the refusal is in the audit trail (naming the
people of an ambiguous mobile for the administrator). No token, secret or code is ever recorded.
"""

from dataclasses import dataclass

from allauth.socialaccount.models import SocialAccount
from django.db import IntegrityError, transaction
from django.db.models import Q

from fangkong.accounts.selectors import can_sign_in
from fangkong.audit.actions import AuditAction
from fangkong.audit.services import audit_record
from fangkong.lib import clock
from fangkong.lib.masking import mask_mobile
from fangkong.org.models import Person

ERR_NO_MOBILE = "{platform}没有提供您的手机号码，无法确认您的身份。请在{platform}中登记手机号码（或授权本系统读取），然后重新登录；也可以使用账号密码登录。"
ERR_UNVERIFIED_MOBILE = "{platform}提供的手机号码尚未经过验证，无法据此确认您的身份。请先在{platform}中验证手机号码，或使用账号密码登录。"
ERR_UNKNOWN = "名册中没有手机号码为 {mobile} 的在职人员，因此无法登录，也不会自动开通账号。请联系本单位联络员核对名册中的手机号码。"
ERR_AMBIGUOUS = "手机号码 {mobile} 在名册中登记在多人名下，无法确定您是哪一位，已记录并提示系统管理员核对。请联系本单位联络员更正名册后再试。"
ERR_NO_ACCOUNT = "您（{name}）在名册中，但还没有开通本系统账号。请向本单位联络员领取激活码开通账号后，再使用{platform}登录。"
ERR_INACTIVE = "您的账号已停用或您已不在职，不能登录。如有疑问请联系本单位联络员。"
ERR_CONFIRM_EXPIRED = "确认已超时或已完成，请重新登录。"

REASONS = {
    "no_mobile": ERR_NO_MOBILE,
    "unverified_mobile": ERR_UNVERIFIED_MOBILE,
    "unknown": ERR_UNKNOWN,
    "ambiguous": ERR_AMBIGUOUS,
    "no_account": ERR_NO_ACCOUNT,
    "inactive": ERR_INACTIVE,
}


@dataclass(frozen=True)
class Match:
    """The outcome of matching a platform identity: a person, or the reason for refusing."""

    person: Person | None
    reason: str = ""
    people: tuple[Person, ...] = ()

    def message(self, *, platform: str, mobile: str | None) -> str:
        name = self.person.name if self.person else ""
        return REASONS[self.reason].format(platform=platform, mobile=mask_mobile(mobile), name=name)


def _in_post() -> Q:
    today = clock.today()
    return Q(left_on__isnull=True) | Q(left_on__gt=today)


def identity_match(*, mobile: str | None, unverified: bool = False) -> Match:
    """The person a (normalised) mobile belongs to, or why there is none."""
    if unverified:
        return Match(None, "unverified_mobile")
    if not mobile:
        return Match(None, "no_mobile")
    people = tuple(
        Person.objects.filter(_in_post(), mobile=mobile).select_related("user", "unit")[:10]
    )
    if not people:
        return Match(None, "unknown")
    if len(people) > 1:
        return Match(None, "ambiguous", people)
    person = people[0]
    if person.user_id is None:
        return Match(person, "no_account")
    if not person.user.is_active:
        return Match(person, "inactive")
    return Match(person)


def user_may_sign_in(user) -> bool:
    """An already bound identity signs in only while the account is active and its person in post
    (the same rule as the password sign-in: accounts.selectors.can_sign_in)."""
    return can_sign_in(user)


@transaction.atomic
def identity_refused(*, provider: str, reason: str, mobile: str | None, people=()) -> None:
    """Record a refused platform sign-in (masked mobile; the people, by id and name, if several)."""
    audit_record(
        actor=None,
        action=AuditAction.SSO_REFUSED,
        new={
            "provider": provider,
            "reason": reason,
            "mobile_masked": mask_mobile(mobile),
            "people": [{"id": p.pk, "name": p.name, "unit": p.unit.code} for p in people],
        },
    )


@transaction.atomic
def identity_bind(*, person: Person, provider: str, uid: str, extra_data: dict) -> SocialAccount:
    """Bind a confirmed platform identity to the person's account (the person is the actor)."""
    user = person.user
    try:
        with transaction.atomic():
            account = SocialAccount.objects.create(
                user=user, provider=provider, uid=uid, extra_data=extra_data
            )
    except IntegrityError:
        # Confirmed twice (two tabs): the first one bound it; only the same user may proceed.
        account = SocialAccount.objects.get(provider=provider, uid=uid)
        if account.user_id != user.pk:
            raise
        return account
    audit_record(
        actor=user,
        action=AuditAction.SSO_BIND,
        obj=person,
        new={
            "provider": provider,
            "uid": uid,
            "mobile_masked": extra_data.get("mobile_masked", ""),
        },
    )
    return account


@transaction.atomic
def sign_in_recorded(*, user, provider: str) -> None:
    audit_record(actor=user, action=AuditAction.SSO_SIGN_IN, obj=user, new={"provider": provider})
