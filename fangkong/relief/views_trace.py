"""Relief-audit views (trace): placeholders until built; each answers 404."""

from django.http import Http404


def trace_index(request, *args, **kwargs):
    raise Http404


def trace_donation(request, *args, **kwargs):
    raise Http404


def trace_recipient(request, *args, **kwargs):
    raise Http404


def sankey_data(request, *args, **kwargs):
    raise Http404


def row(request, *args, **kwargs):
    raise Http404
