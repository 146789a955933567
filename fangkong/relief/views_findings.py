"""Relief-audit views (findings): placeholders until built; each answers 404."""

from django.http import Http404


def findings(request, *args, **kwargs):
    raise Http404


def finding_new(request, *args, **kwargs):
    raise Http404


def finding(request, *args, **kwargs):
    raise Http404


def finding_decide(request, *args, **kwargs):
    raise Http404


def finding_note(request, *args, **kwargs):
    raise Http404


def report_docx(request, *args, **kwargs):
    raise Http404


def findings_xlsx(request, *args, **kwargs):
    raise Http404
