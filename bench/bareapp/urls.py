"""The project's URLs plus the bare baseline endpoint (bench settings only)."""

import json
from decimal import Decimal

from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bench.bareapp.models import BareCheckIn
from fangkong.urls import urlpatterns as project_urls


@csrf_exempt
@require_POST
def bare(request):
    """Parse the same JSON body and insert one row: the floor of any write endpoint."""
    body = json.loads(request.body)
    subject = body["subjects"][0]
    now = timezone.now()
    row = BareCheckIn.objects.create(
        person_id=int(request.headers.get("X-Person", "0")),
        day=now.date(),
        temperature=Decimal(str(subject["temperature"])),
        symptoms=subject.get("symptoms", []),
        work_mode=subject.get("work_mode", ""),
        submitted_at=now,
    )
    return JsonResponse({"id": row.pk})


urlpatterns = [path("bench/bare/", bare), *project_urls]
