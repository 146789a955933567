"""Send users whose password was reset by an administrator to the change-password page first."""

from django.shortcuts import redirect
from django.urls import reverse

_ALLOWED = ("accounts:password_change", "accounts:logout", "set_language")


class ForcePasswordChangeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._allowed: set[str] | None = None

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.must_change_password:
            if self._allowed is None:
                self._allowed = {reverse(name) for name in _ALLOWED}
            if request.path not in self._allowed and not request.path.startswith("/static/"):
                return redirect("accounts:password_change")
        return self.get_response(request)
