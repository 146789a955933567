"""Read the audit trail (system administrators only)."""

from django.db.models import Q, QuerySet

from fangkong.audit.models import AuditEvent
from fangkong.org.selectors import CAP_AUDIT_VIEW, has_global


def audit_events_for(
    user, *, action: str = "", actor: str = "", object_type: str = "", date_from=None, date_to=None
) -> QuerySet[AuditEvent]:
    if not has_global(user, CAP_AUDIT_VIEW):
        return AuditEvent.objects.none()
    qs = AuditEvent.objects.all()
    if action:
        qs = qs.filter(action=action)
    if actor:
        # The name, part of the (masked) stored username, or a whole username typed in full.
        qs = qs.filter(
            Q(actor_name__icontains=actor)
            | Q(actor__person__name__icontains=actor)
            | Q(actor__username=actor)
        )
    if object_type:
        qs = qs.filter(object_type=object_type)
    if date_from:
        qs = qs.filter(at__date__gte=date_from)
    if date_to:
        qs = qs.filter(at__date__lte=date_to)
    return qs
