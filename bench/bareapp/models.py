"""A table shaped like a check-in, for the baseline insert."""

from django.db import models


class BareCheckIn(models.Model):
    person_id = models.BigIntegerField()
    day = models.DateField()
    temperature = models.DecimalField(max_digits=3, decimal_places=1)
    symptoms = models.JSONField(default=list)
    work_mode = models.CharField(max_length=20, blank=True)
    submitted_at = models.DateTimeField()

    class Meta:
        app_label = "bareapp"

    def __str__(self) -> str:
        return f"{self.person_id} {self.day}"
