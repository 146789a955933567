"""Reads for the relief audit, always narrowed to the projects the acting user is a member of."""

from django.db.models import QuerySet
from django.http import Http404

from fangkong.org.selectors import CAP_RELIEF, holds
from fangkong.relief.models import (
    AuditProject,
    Finding,
    Item,
    LedgerImport,
    Party,
    SourceFile,
)


def can_create_projects(user) -> bool:
    return user.is_authenticated and holds(user, CAP_RELIEF)


def projects_for(user) -> QuerySet[AuditProject]:
    """Projects whose team includes the user; nobody else sees a project, admins included."""
    if not user.is_authenticated:
        return AuditProject.objects.none()
    return AuditProject.objects.filter(members__user=user).distinct()


def get_project_for(user, project_id) -> AuditProject:
    """One project of the user's; "not a member" and "no such project" are the same 404."""
    try:
        return projects_for(user).get(pk=int(project_id))
    except (AuditProject.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def is_lead(user, project: AuditProject) -> bool:
    return project.members.filter(user=user, role="lead").exists()


def _get(qs, pk):
    try:
        return qs.get(pk=int(pk))
    except (qs.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def get_import_for(user, project_id, import_id) -> LedgerImport:
    project = get_project_for(user, project_id)
    return _get(LedgerImport.objects.filter(project=project).select_related("source"), import_id)


def get_file_for(user, project_id, file_id) -> SourceFile:
    return _get(SourceFile.objects.filter(project=get_project_for(user, project_id)), file_id)


def get_finding_for(user, project_id, finding_id) -> Finding:
    project = get_project_for(user, project_id)
    return _get(Finding.objects.filter(project=project), finding_id)


def get_party_for(user, project_id, party_id) -> Party:
    return _get(Party.objects.filter(project=get_project_for(user, project_id)), party_id)


def get_item_for(user, project_id, item_id) -> Item:
    return _get(Item.objects.filter(project=get_project_for(user, project_id)), item_id)


def synonyms_for(project: AuditProject) -> dict[str, str]:
    """Header → field: the project's own words first, then global additions, then built-in."""
    from fangkong.relief.ledger import schema
    from fangkong.relief.models import ColumnSynonym

    out = schema.all_synonyms()
    extra = ColumnSynonym.objects.filter(project__isnull=True).values_list("header", "field")
    own = ColumnSynonym.objects.filter(project=project).values_list("header", "field")
    for header, f in [*extra, *own]:
        out[schema.header_key(header)] = f
    return out


def with_states(runs) -> list:
    """Each run with `state`: its status, or "interrupted" for a run marked running whose worker's
    lease has run out (the worker was killed): derived from the lease and the clock, so such a run
    stops polling by itself. One query for any number of runs."""
    from fangkong.jobs.models import JobLease
    from fangkong.lib import clock

    runs = list(runs)
    running = {r.lease_name: r for r in runs if r.status == "running"}
    live = set(
        JobLease.objects.filter(name__in=running, expires_at__gt=clock.now())
        .exclude(holder="")
        .values_list("name", flat=True)
    )
    for r in runs:
        r.state = "interrupted" if r.status == "running" and r.lease_name not in live else r.status
    return runs
