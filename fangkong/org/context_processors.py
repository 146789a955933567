"""Which menu entries the acting user should see (no queries beyond the cached grants)."""

from fangkong.org.selectors import (
    CAP_AUDIT_VIEW,
    CAP_CHASE,
    CAP_HEALTH_VIEW,
    CAP_REPORT,
    CAP_ROSTER_MANAGE,
    CAP_UNITS_VIEW,
    CAP_USERS_MANAGE,
    caps_of,
    has_global,
)


def nav(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}}
    caps = caps_of(user)
    return {
        "nav": {
            "units": CAP_UNITS_VIEW in caps,
            "health": CAP_HEALTH_VIEW in caps,
            "chase": CAP_CHASE in caps,
            "reports": bool(caps & {CAP_REPORT, CAP_CHASE}) or has_global(user, CAP_AUDIT_VIEW),
            "roster": CAP_ROSTER_MANAGE in caps,
            "users": has_global(user, CAP_USERS_MANAGE),
            "audit": has_global(user, CAP_AUDIT_VIEW),
        }
    }
