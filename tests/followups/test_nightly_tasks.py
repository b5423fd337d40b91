"""A real Celery worker (CI services stage) runs a chunked scoring run."""

import re
import time

import pytest

from customers.followups.tasks import start_scoring
from metrics.models import CustomerScore, ScoringRun
from tests.scoring_data import AS_OF, load_into_db, shop


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_chunked_scoring_run(real_worker):
    load_into_db(shop(customers=300, seed=8))
    start_scoring.delay(chunks=2, as_of=AS_OF.date().isoformat())
    deadline = time.monotonic() + 180
    run = None
    while time.monotonic() < deadline:
        run = ScoringRun.objects.filter(as_of=AS_OF.date()).first()
        if run and run.status != "running":
            break
        assert real_worker.poll() is None, real_worker.stdout.read()
        time.sleep(1)
    assert run is not None and run.status == "succeeded", run and run.error
    assert run.is_current and CustomerScore.objects.filter(run=run).count() == 300
    real_worker.terminate()
    log = real_worker.communicate(timeout=30)[0]
    assert len(re.findall(r"Task metrics\.score_part\[[0-9a-f-]+\] succeeded", log)) == 2, log
