"""The one password backend: lock-out rules first, then the password, then whether the person may
still sign in (their left date). Sessions go through `get_user`, so a person who leaves loses an
open session on the next request, and regains access when reinstated: both follow from the data
and the server clock, nothing is switched off."""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from fangkong.accounts import selectors, throttle
from fangkong.accounts.models import User
from fangkong.lib.db import one_or_none


class SignInBackend(ModelBackend):
    """Django's ModelBackend behind the rules of accounts/throttle.py.

    A refused attempt raises PermissionDenied, which stops Django's backend loop, so no other
    backend listed after this one can be used to get round the rules. The reason is left on the
    request (`fk_refusal`) for the sign-in form to show.
    """

    def authenticate(self, request, username=None, password=None, unlock_code="", **kwargs):
        if username is None or password is None:
            return None
        user = one_or_none(User.objects.select_related("person").filter(username=username))
        if request is None:  # management commands and tests that call authenticate() directly
            return user if user and user.check_password(password) and self._may(user) else None
        checked = throttle.gate(
            request, username, throttle.PASSWORD, user=user, unlock_code=unlock_code
        )
        if checked.refusal is not None:
            request.fk_refusal = checked.refusal
            raise PermissionDenied(checked.refusal.code)
        if user is None:
            User().set_password(password)  # same time as a wrong password (Django #20760)
            throttle.record_failure(request, username, throttle.PASSWORD, checked)
            return None
        if not user.check_password(password):
            throttle.record_failure(request, username, throttle.PASSWORD, checked)
            return None
        if not self._may(user):
            request.fk_refusal = selectors.why_no_sign_in(user)
            raise PermissionDenied("cannot sign in")
        if checked.unlock is not None:
            from fangkong.accounts import services

            services.access_code_use(code=checked.unlock)
        throttle.record_sign_in(request, username, checked)
        return user

    def _may(self, user: User) -> bool:
        return selectors.can_sign_in(user)

    def user_can_authenticate(self, user):
        return selectors.can_sign_in(user)

    def get_user(self, user_id):
        user = one_or_none(User.objects.select_related("person").filter(pk=user_id))
        return user if user is not None and selectors.can_sign_in(user) else None
