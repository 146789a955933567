"""Sign-in lock-out that an attacker cannot turn against a known user (README: "Sign-in lock-out").

A lock by username alone lets anyone keep a known user out by typing wrong passwords for them; a
lock by username and address does the same from behind a shared NAT or proxy. So the rules below
slow guessing everywhere but always leave the real user a way in. Each is derived from the
failures recorded in ThrottleEvent and the server clock; there is no lock flag to clear.

1. Address: SIGNIN_ADDRESS_LIMIT failures from one address within SIGNIN_WINDOW_MINUTES make
   that address wait until the oldest of them leaves the window.
2. Account: after SIGNIN_ACCOUNT_FREE failures for one username (in the last day, since its last
   successful sign-in), each further try must wait 1, 2, 4, 8 … up to SIGNIN_MAX_DELAY_MINUTES after the
   previous failure. Tries refused while waiting are not failures, so waiting shortens nothing
   and lengthens nothing. Guessing drops to a few tries an hour per account.
3. Trusted browser: signing in leaves a signed cookie naming the user (invalidated when their
   password changes). That browser's attempts for that user skip rules 1 and 2 and have a limit
   of their own (SIGNIN_DEVICE_LIMIT within the window), so nobody elsewhere can lock the user
   out of the browser they already use.
4. Unlock code: a locked user asks for a code, sent by SMS to the mobile on their staff record
   (or by e-mail). The code is bound to the browser that asked, and with it (and the right
   password) that browser skips rules 1 and 2 once. A guessed code is useless without the
   password; guesses from another browser cannot burn it.

Activation codes are typed on the activation page under the same rules (kind "activate").
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.accounts.models import AccessCode, ThrottleEvent, User
from fangkong.lib import clock
from fangkong.lib.request_context import ip_from_request

# Kinds of ThrottleEvent: two kinds of failure, and two events the rules also need.
PASSWORD, ACTIVATE = "password", "activate"
CODE_SENT, SIGNED_IN = "code_sent", "signed_in"
FAILURES = (PASSWORD, ACTIVATE)
DEVICE_COOKIE = "fk_device"
UNLOCK_COOKIE = "fk_unlock"
_DEVICE_SALT = "fangkong.accounts.device"

ERR_ADDRESS_WAIT = N_(
    "从您所在网络登录失败的次数过多，为防止密码被猜，请 {wait} 后再试；"
    "也可以点击“获取短信验证码”，用手机收到的验证码立即登录。"
)
ERR_ACCOUNT_WAIT = N_(
    "该账号最近登录失败的次数较多，为防止密码被猜，请 {wait} 后再试；"
    "也可以点击“获取短信验证码”，用手机收到的验证码立即登录。"
)
ERR_UNLOCK_CODE_WRONG = N_("短信验证码不正确或已过期，请核对短信，或重新获取验证码。")


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused now, and for how long."""

    code: str  # "address" | "account" | "unlock_code"
    wait_seconds: int

    @property
    def message(self) -> str:
        template = {
            "address": ERR_ADDRESS_WAIT,
            "account": ERR_ACCOUNT_WAIT,
            "unlock_code": ERR_UNLOCK_CODE_WRONG,
        }[self.code]
        return _(template).format(wait=humanise(self.wait_seconds))


@dataclass
class Gate:
    """The outcome of checking one attempt before its password or code is looked at."""

    refusal: Refusal | None = None
    device: str = ""  # id of a valid trusted-browser cookie for this user, else ""
    unlock: AccessCode | None = None  # a valid unlock code this browser typed


def humanise(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return _("{n} 分钟").format(n=minutes) if minutes > 1 else _("1 分钟")


def normalise(username: str) -> str:
    return (username or "").strip().lower()[:150]


def _window() -> timedelta:
    return timedelta(minutes=settings.SIGNIN_WINDOW_MINUTES)


def account_delay(failures: int) -> timedelta:
    """The wait after `failures` failures of one account: none, then 1, 2, 4 … minutes, capped."""
    over = failures - settings.SIGNIN_ACCOUNT_FREE
    if over < 0:
        return timedelta(0)
    minutes = min(2 ** min(over, 16), settings.SIGNIN_MAX_DELAY_MINUTES)
    return timedelta(minutes=minutes)


# --- Trusted browsers. ---


def _password_mark(user: User) -> str:
    """Changes whenever the password does, so old device cookies stop with it."""
    return salted_hmac(_DEVICE_SALT, user.password).hexdigest()[:16]


def device_cookie_value(user: User) -> str:
    return signing.dumps(
        [user.pk, secrets.token_hex(12), _password_mark(user)], salt=_DEVICE_SALT, compress=True
    )


def device_of(request, user: User | None) -> str:
    """The id of the request's trusted-browser cookie when it is valid for `user`, else ""."""
    raw = request.COOKIES.get(DEVICE_COOKIE) if request is not None else None
    if not raw or user is None:
        return ""
    try:
        pk, nonce, mark = signing.loads(
            raw, salt=_DEVICE_SALT, max_age=timedelta(days=settings.SIGNIN_DEVICE_DAYS)
        )
    except (signing.BadSignature, ValueError, TypeError):
        return ""
    if pk != user.pk or mark != _password_mark(user):
        return ""
    return str(nonce)[:32]


def set_device_cookie(response, user: User) -> None:
    response.set_cookie(
        DEVICE_COOKIE,
        device_cookie_value(user),
        max_age=settings.SIGNIN_DEVICE_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


# --- The rules. ---


def _address_refusal(address: str | None, now) -> Refusal | None:
    if not address:
        return None
    limit = settings.SIGNIN_ADDRESS_LIMIT
    recent = (
        ThrottleEvent.objects.filter(
            address=address, device="", kind__in=FAILURES, at__gt=now - _window()
        )
        .order_by("-at")
        .values_list("at", flat=True)[limit - 1 : limit]
    )
    oldest = next(iter(recent), None)
    if oldest is None:
        return None
    return Refusal("address", max(1, int((oldest + _window() - now).total_seconds())))


def _account_refusal(username: str, now) -> Refusal | None:
    recent = ThrottleEvent.objects.filter(username=username, at__gt=now - timedelta(days=1))
    # Ids, not times, order a sign-in and the failures around it (times can be equal).
    last_in = recent.filter(kind=SIGNED_IN).order_by("-pk").values_list("pk", flat=True)[:1]
    failures = list(
        recent.filter(device="", kind__in=FAILURES, pk__gt=next(iter(last_in), 0))
        .order_by("-at")
        .values_list("at", flat=True)[:64]
    )
    wait = account_delay(len(failures))
    if not failures or not wait:
        return None
    ready = failures[0] + wait
    if ready <= now:
        return None
    return Refusal("account", max(1, int((ready - now).total_seconds())))


def _device_exhausted(device: str, now) -> bool:
    return (
        ThrottleEvent.objects.filter(
            device=device, kind__in=FAILURES, at__gt=now - _window()
        ).count()
        >= settings.SIGNIN_DEVICE_LIMIT
    )


def live_unlock_code(request, user: User | None, typed: str) -> AccessCode | None:
    """The unlock code `typed` when it was sent to `user` for this very browser and is still live."""
    from fangkong.accounts import codes

    nonce = request.COOKIES.get(UNLOCK_COOKIE, "") if request is not None else ""
    if user is None or not typed or not nonce:
        return None
    code = (
        AccessCode.objects.filter(
            user=user,
            purpose=AccessCode.Purpose.UNLOCK,
            code_hash=codes.code_hash(typed),
            binding=codes.binding_hash(nonce),
            used_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=clock.now(),
            failures__lt=settings.SIGNIN_UNLOCK_TRIES,
        )
        .order_by()
        .first()
    )
    return code


def _burn_a_try(request, user: User | None) -> None:
    """A wrong code typed in this browser uses up a try of every live code bound to it."""
    from django.db.models import F

    from fangkong.accounts import codes

    nonce = request.COOKIES.get(UNLOCK_COOKIE, "") if request is not None else ""
    if user is None or not nonce:
        return
    AccessCode.objects.filter(
        user=user,
        purpose=AccessCode.Purpose.UNLOCK,
        binding=codes.binding_hash(nonce),
        used_at__isnull=True,
    ).order_by().update(failures=F("failures") + 1)


def gate(request, username: str, kind: str, *, user: User | None, unlock_code: str = "") -> Gate:
    """Check an attempt against the rules before its secret is looked at."""
    now = clock.now()
    name = normalise(username)
    device = device_of(request, user) if kind == PASSWORD else ""
    if device and not _device_exhausted(device, now):
        return Gate(device=device)
    if unlock_code:
        code = live_unlock_code(request, user, unlock_code)
        if code is not None:
            return Gate(unlock=code)
        _burn_a_try(request, user)
    refusal = _address_refusal(ip_from_request(request), now) or _account_refusal(name, now)
    if refusal is None and unlock_code:
        # A wrong code typed while nothing is refused: say so, but let the password decide.
        return Gate()
    if refusal is not None and unlock_code:
        refusal = Refusal("unlock_code", refusal.wait_seconds)
    return Gate(refusal=refusal)


def record_failure(request, username: str, kind: str, checked: Gate) -> None:
    """Count one failed attempt (its own row, committed whatever the request does next)."""
    ThrottleEvent.objects.create(
        at=clock.now(),
        kind=kind,
        username=normalise(username),
        address=ip_from_request(request) if request is not None else None,
        device=checked.device,
    )
    if checked.unlock is not None:
        from django.db.models import F

        AccessCode.objects.filter(pk=checked.unlock.pk).update(failures=F("failures") + 1)


def record_sign_in(request, username: str, checked: Gate) -> None:
    """A successful sign-in: the account's failures before it no longer delay anyone."""
    ThrottleEvent.objects.create(
        at=clock.now(),
        kind=SIGNED_IN,
        username=normalise(username),
        address=ip_from_request(request) if request is not None else None,
        device=checked.device,
    )


def purge(*, older_than_days: int = 2) -> int:
    """Forget failures no rule looks at any more, and sign-in codes long expired."""
    cutoff = clock.now() - timedelta(days=older_than_days)
    deleted, _ = ThrottleEvent.objects.filter(at__lt=cutoff).delete()
    AccessCode.objects.filter(purpose=AccessCode.Purpose.UNLOCK, expires_at__lt=cutoff).delete()
    return deleted
