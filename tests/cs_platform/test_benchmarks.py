"""The benchmark scripts keep working (tiny sizes; the figures themselves are not asserted)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args):
    result = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_the_import_benchmark_prints_its_figures():
    out = run("customers.bench", "--orders", "3000", "--customers", "300", "--naive-rows", "100")
    assert "import orders" in out and "rows/s" in out and "peak RSS" in out
    assert "naive ORM loop 100 rows" in out


def test_the_scoring_benchmark_prints_stages_floors_and_the_naive_loop():
    out = run("metrics.bench", "--customers", "400", "--orders", "4000", "--naive-customers", "20")
    assert "full scoring run:" in out and "score_and_write" in out
    assert "I/O floor, read 4,000 orders" in out and "I/O floor, write 400 score rows" in out
    assert "naive per-customer ORM loop" in out
