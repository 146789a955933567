"""Writes to accounts: passwords, roles and API tokens, each audited."""

import hashlib
import secrets

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from fangkong.accounts.models import ApiToken, RoleAssignment, User
from fangkong.audit.services import audit_record
from fangkong.lib import clock
from fangkong.lib.db import one_or_none

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
    audit_record(actor=actor, action="user.create", obj=user, new={"username": username})
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
        actor=actor, action="user.password_change", obj=user, new={"tokens_revoked": revoked}
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
        actor=actor, action="user.password_reset", obj=user, new={"tokens_revoked": revoked}
    )
    return temporary


@transaction.atomic
def role_assign(*, actor, user: User, role: str, unit=None) -> RoleAssignment:
    assignment = RoleAssignment(user=user, role=role, unit=unit)
    assignment.full_clean()
    assignment.save()
    audit_record(
        actor=actor,
        action="role.assign",
        obj=assignment,
        new={"user": user.username, "role": role, "unit": unit.code if unit else None},
    )
    return assignment


@transaction.atomic
def role_revoke(*, actor, assignment: RoleAssignment) -> None:
    audit_record(
        actor=actor,
        action="role.revoke",
        obj=assignment,
        old={
            "user": assignment.user.username,
            "role": assignment.role,
            "unit": assignment.unit.code if assignment.unit_id else None,
        },
    )
    assignment.delete()


@transaction.atomic
def token_create(*, actor, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and only its hash is stored."""
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=name[:100] or "token", prefix=prefix, key_hash=token_hash(raw)
    )
    audit_record(actor=actor, action="token.create", obj=token, new={"name": token.name})
    return token, raw


@transaction.atomic
def token_revoke(*, actor, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="token.revoke", obj=token)
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
    if token is None or not token.user.is_active or token.user.must_change_password:
        return None
    now = clock.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 3600:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
