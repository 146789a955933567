"""Roster import and export pages (being written)."""

from django.http import Http404


def roster_import(request):
    raise Http404


def roster_preview(request, upload_id: int):
    raise Http404


def roster_export(request):
    raise Http404
