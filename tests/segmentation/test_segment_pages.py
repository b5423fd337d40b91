"""The segments page and saving the customer list's filters as a segment."""

import pytest

from customers.listing import segment_customers
from segmentation.models import SavedSegment

pytestmark = pytest.mark.django_db


def test_segments_page_and_saving_the_lists_filters(owner_client, scored):
    page = owner_client.get("/segments/").content.decode()
    assert 'id="rfm-grid"' in page and "typical customers" in page and "Champions" in page
    owner_client.post("/segments/new/?health=red&plan=Pro&sort=clv", {"name": "Pro in trouble"})
    segment = SavedSegment.objects.get()
    assert segment.filters == {"health": "red", "plan": "Pro"}
    assert [c.name for c in segment_customers(segment)] == ["Ana Red"]
    assert "Pro in trouble" in owner_client.get("/segments/").content.decode()
