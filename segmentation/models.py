from django.db import models
from django.utils import timezone


class SavedSegment(models.Model):
    """A named set of the customer list's filters (customers.listing.CustomerFilter:
    q, health, segment, stage, plan, tag, nps), usable as a survey audience. Score
    filters use the current run."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    filters = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
