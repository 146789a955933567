"""Writes to accounts: passwords, API tokens and one-time codes, each audited.

Roles are granted and withdrawn by `org.services` (role_assign, role_grant, role_withdraw…).
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.accounts.models import AccessCode, ApiToken, User
from fangkong.accounts.selectors import can_sign_in
from fangkong.audit.actions import AuditAction
from fangkong.audit.services import audit_record
from fangkong.lib import clock
from fangkong.lib.db import one_or_none
from fangkong.lib.masking import mask_username

TOKEN_PREFIX = "fk_"  # noqa: S105 (a public marker, not a secret)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def user_create(
    *,
    actor,
    username: str,
    password: str | None,
    email: str = "",
    must_change_password: bool = False,
) -> User:
    user = User(username=username, email=email, must_change_password=must_change_password)
    if password:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(
        actor=actor,
        action=AuditAction.USER_CREATE,
        obj=user,
        new={"username": mask_username(username)},
    )
    return user


def _tokens_revoke_all(user: User) -> int:
    """Stop every live API token of `user`; returns how many were live."""
    return (
        ApiToken.objects.filter(user=user, revoked_at__isnull=True)
        .order_by()
        .update(revoked_at=clock.now())
    )


@transaction.atomic
def user_set_password(*, actor, user: User, password: str) -> int:
    """The user changes their own password (already validated by the form).

    A changed password means the old one may be known to someone else, and a token created with
    it would outlive the change: every live token of the user stops too. Returns how many did.
    """
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    revoked = _tokens_revoke_all(user)
    audit_record(
        actor=actor,
        action=AuditAction.USER_PASSWORD_CHANGE,
        obj=user,
        new={"tokens_revoked": revoked},
    )
    return revoked


@transaction.atomic
def user_reset_password(*, actor, user: User) -> str:
    """An administrator issues a one-time password; the user must change it at next login."""
    temporary = "Fk-" + secrets.token_urlsafe(9)
    user.set_password(temporary)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    # A reset means the account may be in the wrong hands: its scripts' tokens stop too.
    revoked = _tokens_revoke_all(user)
    audit_record(
        actor=actor,
        action=AuditAction.USER_PASSWORD_RESET,
        obj=user,
        new={"tokens_revoked": revoked},
    )
    return temporary


@transaction.atomic
def token_create(*, actor, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and only its hash is stored."""
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=name[:100] or "token", prefix=prefix, key_hash=token_hash(raw)
    )
    audit_record(actor=actor, action=AuditAction.TOKEN_CREATE, obj=token, new={"name": token.name})
    return token, raw


@transaction.atomic
def token_revoke(*, actor, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action=AuditAction.TOKEN_REVOKE, obj=token)
    return token


def token_authenticate(raw: str) -> User | None:
    """The active owner of a live token, or None."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = one_or_none(
        ApiToken.objects.select_related("user", "user__person").filter(
            key_hash=token_hash(raw), revoked_at__isnull=True
        )
    )
    if token is None or token.user.must_change_password:
        return None
    if not can_sign_in(token.user):  # inactive, or their left date has come
        return None
    now = clock.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 3600:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- One-time codes: unlocking sign-in. ---

UNLOCK_SMS = N_(
    "您的防控系统登录验证码为 {code}，{minutes} 分钟内有效，仅限申请验证码的浏览器使用。"
    "如非本人操作，请忽略并告知本单位联络员。"
)


def access_code_use(*, code: AccessCode) -> bool:
    """Spend a code; False when another request spent it first (single use under a race)."""
    return bool(
        AccessCode.objects.filter(pk=code.pk, used_at__isnull=True)
        .order_by()
        .update(used_at=clock.now())
    )


def unlock_code_send(*, username: str, address: str | None, nonce: str) -> bool:
    """Send a sign-in code to the mobile (or e-mail) on record for `username`, usable only by the
    browser holding `nonce`. Returns whether one was sent; callers answer alike either way, so
    the page tells nobody which usernames exist or have a mobile number.

    At most one code per account per SIGNIN_UNLOCK_INTERVAL_SECONDS and
    SIGNIN_UNLOCK_PER_ADDRESS_HOUR per address per hour: enough for the real user to always get
    one within a minute, too few to flood a phone.
    """
    from fangkong.accounts import codes, throttle
    from fangkong.accounts.models import ThrottleEvent
    from fangkong.notify.services import message_enqueue

    now = clock.now()
    name = throttle.normalise(username)
    recent_account = ThrottleEvent.objects.filter(
        kind=throttle.CODE_SENT,
        username=name,
        at__gt=now - timedelta(seconds=settings.SIGNIN_UNLOCK_INTERVAL_SECONDS),
    ).exists()
    recent_address = (
        address is not None
        and ThrottleEvent.objects.filter(
            kind=throttle.CODE_SENT, address=address, at__gt=now - timedelta(hours=1)
        ).count()
        >= settings.SIGNIN_UNLOCK_PER_ADDRESS_HOUR
    )
    if recent_account or recent_address:
        return False
    with transaction.atomic():
        ThrottleEvent.objects.create(
            at=now, kind=throttle.CODE_SENT, username=name, address=address
        )
        user = one_or_none(User.objects.select_related("person").filter(username=username))
        if user is None or not can_sign_in(user):
            return False
        person = getattr(user, "person", None)
        mobile = person.mobile if person is not None else ""
        channel = AccessCode.Channel.SMS if mobile else AccessCode.Channel.EMAIL
        if not mobile and not user.email:
            return False
        raw = codes.new_unlock_code()
        minutes = settings.SIGNIN_UNLOCK_MINUTES
        code = AccessCode.objects.create(
            user=user,
            purpose=AccessCode.Purpose.UNLOCK,
            channel=channel,
            code_hash=codes.code_hash(raw),
            binding=codes.binding_hash(nonce),
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
        message_enqueue(
            key=f"account.unlock.{code.pk}",
            kind="account.unlock",
            channel=channel,
            user=user,
            address=mobile or user.email,
            subject=_("防控系统登录验证码"),
            body=_(UNLOCK_SMS).format(code=raw, minutes=minutes),
        )
        # The event names the channel, never the code.
        audit_record(
            actor=None, action=AuditAction.USER_UNLOCK_CODE, obj=user, new={"channel": channel}
        )
    return True


# --- One-time codes: activating an account. ---

ERR_ACTIVATION_INVALID = N_(
    "用户名或激活码不正确，请对照凭条或短信核对（激活码不区分大小写，短横线可不填）。"
)
ERR_ACTIVATION_USED = N_(
    "该激活码已经用过。如果是您本人设置的密码，请直接登录；否则请联系本单位联络员重新生成激活码。"
)
ERR_ACTIVATION_EXPIRED = N_("该激活码已过期，请联系本单位联络员重新生成激活码。")
ERR_ACTIVATION_REPLACED = N_("该激活码已被新的激活码取代，请使用最新的凭条或短信。")
ERR_ACTIVATION_DONE = N_("该账号已经激活，请直接登录；忘记密码请联系本单位系统管理员。")


def activation_code_check(*, user: User | None, typed: str) -> tuple[AccessCode | None, str]:
    """The live activation code `typed` for `user`, or (None, the reason as an ERR_ constant)."""
    from fangkong.accounts import codes

    if user is None or not typed:
        return None, ERR_ACTIVATION_INVALID
    code = one_or_none(
        AccessCode.objects.filter(
            code_hash=codes.code_hash(typed), purpose=AccessCode.Purpose.ACTIVATE
        )
    )
    if code is None or code.user_id != user.pk:
        return None, ERR_ACTIVATION_INVALID
    if code.used_at is not None:
        return None, ERR_ACTIVATION_USED
    if user.has_usable_password():
        return None, ERR_ACTIVATION_DONE
    if code.revoked_at is not None:
        return None, ERR_ACTIVATION_REPLACED
    if code.expires_at <= clock.now():
        return None, ERR_ACTIVATION_EXPIRED
    return code, ""


@transaction.atomic
def account_activate(*, code: AccessCode, password: str) -> User | None:
    """Spend the activation code and set the person's own password (already validated).

    None when another request spent the code first. The audit event names the channel the code
    came by, never the code.
    """
    if not access_code_use(code=code):
        return None
    user = User.objects.select_for_update().get(pk=code.user_id)
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    # Any other code of theirs (a reprinted slip, a second SMS) is now worthless.
    AccessCode.objects.filter(
        user=user, purpose=AccessCode.Purpose.ACTIVATE, used_at__isnull=True
    ).order_by().update(revoked_at=clock.now())
    audit_record(
        actor=user, action=AuditAction.USER_ACTIVATE, obj=user, new={"channel": code.channel}
    )
    return user
