"""Relief writes: audit projects and their teams."""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.audit.services import audit_record
from fangkong.lib import plausible
from fangkong.relief.models import (
    AuditProject,
    MemberRole,
    ProjectMember,
)
from fangkong.relief.selectors import can_create_projects, is_lead

ERR_NOT_AUDITOR = N_("只有审计人员可以创建审计项目。")
ERR_NOT_LEAD = N_("只有项目组长可以调整项目组成员。")
ERR_PERIOD = N_("审计期间的结束日期不能早于开始日期。")
ERR_LAST_LEAD = N_("项目至少要有一名组长。")


@transaction.atomic
def project_create(
    *, actor, name: str, period_start: date, period_end: date, scope: str = "", bodies: str = ""
) -> AuditProject:
    """Create a project; its creator becomes the team lead."""
    if not can_create_projects(actor):
        raise PermissionDenied(_(ERR_NOT_AUDITOR))
    for field, value in (("period_start", period_start), ("period_end", period_end)):
        problem = plausible.date_problem(value, plausible.LEDGER)
        if problem:
            raise ValidationError({field: problem})
    if period_end < period_start:
        raise ValidationError({"period_end": _(ERR_PERIOD)})
    project = AuditProject.objects.create(
        name=name.strip(),
        scope=scope,
        period_start=period_start,
        period_end=period_end,
        bodies=bodies,
        created_by=actor,
    )
    ProjectMember.objects.create(project=project, user=actor, role=MemberRole.LEAD)
    audit_record(
        actor=actor, action="relief.project.create", obj=project, new={"name": project.name}
    )
    return project


@transaction.atomic
def member_set(*, actor, project: AuditProject, user, role: str | None) -> None:
    """Add, change or (role=None) remove a team member; only a lead may."""
    if not is_lead(actor, project):
        raise PermissionDenied(_(ERR_NOT_LEAD))
    if role is None:
        if project.members.filter(role=MemberRole.LEAD).exclude(user=user).count() == 0:
            raise ValidationError(_(ERR_LAST_LEAD))
        project.members.filter(user=user).delete()
    else:
        demoting = project.members.filter(user=user, role=MemberRole.LEAD).exists()
        others = project.members.filter(role=MemberRole.LEAD).exclude(user=user).exists()
        if role != MemberRole.LEAD and demoting and not others:
            raise ValidationError(_(ERR_LAST_LEAD))
        ProjectMember.objects.update_or_create(project=project, user=user, defaults={"role": role})
    audit_record(
        actor=actor,
        action="relief.member.set",
        obj=project,
        new={"user": user.get_username(), "role": role},
    )
