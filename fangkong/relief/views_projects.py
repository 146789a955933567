"""Relief-audit views (projects): placeholders until built; each answers 404."""

from django.http import Http404


def projects(request, *args, **kwargs):
    raise Http404


def project_new(request, *args, **kwargs):
    raise Http404


def project(request, *args, **kwargs):
    raise Http404


def members(request, *args, **kwargs):
    raise Http404


def upload(request, *args, **kwargs):
    raise Http404


def import_preview(request, *args, **kwargs):
    raise Http404


def import_progress(request, *args, **kwargs):
    raise Http404


def import_remap(request, *args, **kwargs):
    raise Http404


def import_accept(request, *args, **kwargs):
    raise Http404


def import_discard(request, *args, **kwargs):
    raise Http404


def file_download(request, *args, **kwargs):
    raise Http404


def parties(request, *args, **kwargs):
    raise Http404


def party(request, *args, **kwargs):
    raise Http404


def items(request, *args, **kwargs):
    raise Http404


def item(request, *args, **kwargs):
    raise Http404


def synonyms(request, *args, **kwargs):
    raise Http404
