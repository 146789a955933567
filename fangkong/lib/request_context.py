"""Carry the current request's client address to the audit trail without threading it through every call."""

from contextvars import ContextVar

_client_ip: ContextVar[str | None] = ContextVar("client_ip", default=None)


def client_ip() -> str | None:
    return _client_ip.get()


def ip_from_request(request) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR")


class RequestContextMiddleware:
    """Remember the client address for the duration of one request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _client_ip.set(ip_from_request(request))
        try:
            return self.get_response(request)
        finally:
            _client_ip.reset(token)
