"""Words stored in English, shown in the owner's language: segment names, cluster
traits, the health sentence, import outcomes and row problems."""

from django import template
from django.utils.translation import gettext

from customers.imports import formats
from customers.imports.load import ImportReport
from metrics import health

register = template.Library()


@register.filter
def label(name: str) -> str:
    """An RFM segment's name (or another stored English label)."""
    return gettext(name) if name else ""


@register.filter
def cluster_words(cluster: dict) -> str:
    traits = [gettext(t) for t in cluster.get("traits") or []]
    if not traits:
        return cluster.get("description") or gettext("typical customers")
    return gettext("%(traits)s customers") % {"traits": gettext(", ").join(traits)}


@register.filter
def health_why(score) -> str:
    """The health sentence again, in the active language, from the stored parts."""
    components = score.components or {}
    if "parts" not in components or "facts" not in components:
        return score.explanation
    return health.explain(components["parts"], components["facts"])


@register.filter
def import_summary(job) -> str:
    """An import job's outcome in the active language (older jobs: as stored)."""
    if not job.report:
        return job.message
    return ImportReport(**job.report).summary()


@register.filter
def row_problem(error: dict) -> str:
    return formats.problem(error)
