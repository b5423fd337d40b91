"""Layers import only downwards (docs/architecture.md#layers):

    platform ← data in ← scoring ← queue ← pages and entry points

The test reads every project module's imports (at module level and inside functions)
and fails on an import that points up a layer, on a module no layer claims, and on an
import inside a function that is not on the short list of deliberate late imports."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("cs_platform", "customers", "metrics", "feedback", "segmentation")
LAYERS = ["platform", "data", "scoring", "queue", "pages"]

# Module name patterns, most specific first; "*" stands for one or more name parts.
CLAIMS = [
    # pages and entry points: views, URLs, admin, API, tasks, commands, benchmarks, wiring
    ("cs_platform.urls", "pages"),
    ("cs_platform.api_urls", "pages"),
    ("cs_platform.middleware", "pages"),
    ("cs_platform.wsgi", "pages"),
    ("cs_platform.asgi", "pages"),
    ("customers.dashboard", "pages"),
    ("customers.dashboard.*", "pages"),
    ("customers.listing", "queue"),  # which customers a filter or saved segment holds
    ("customers.followups.views", "pages"),
    ("customers.followups.urls", "pages"),
    ("customers.followups.context_processors", "pages"),
    ("*.views", "pages"),
    ("*.views.*", "pages"),
    ("*.owner_views", "pages"),
    ("*.urls", "pages"),
    ("*.owner_urls", "pages"),
    ("*.admin", "pages"),
    ("*.api", "pages"),
    ("*.tasks", "pages"),
    ("*.templatetags", "pages"),
    ("*.templatetags.*", "pages"),
    ("*.management", "pages"),
    ("*.management.*", "pages"),
    ("*.bench", "pages"),
    ("*.pagebench", "pages"),
    # the follow-up queue
    ("customers.followups", "queue"),
    ("customers.playbooks", "queue"),
    ("customers.playbooks.*", "queue"),
    ("customers.followups.*", "queue"),
    # scoring
    ("metrics", "scoring"),
    ("metrics.*", "scoring"),
    ("segmentation", "scoring"),
    ("segmentation.*", "scoring"),
    ("feedback.results", "scoring"),
    # data in: customers, orders, interactions, imports; surveys and their answers
    ("customers", "data"),
    ("customers.*", "data"),
    ("feedback", "data"),
    ("feedback.*", "data"),
    # the platform: settings, Celery app, shared helpers
    ("cs_platform", "platform"),
    ("cs_platform.*", "platform"),
]

# Imports inside a function that are there on purpose, not to dodge a cycle.
LATE_IMPORTS = {
    # Runs after Django is set up: warms the sentiment lexicons in each web worker.
    ("cs_platform.wsgi", "feedback.sentiment"),
    # Keeps pandas and the scoring engine out of web workers until a run is started.
    ("customers.views.settings", "customers.followups.tasks"),
}
# Benchmarks set Django up in their own processes before they may import models.
LATE_IMPORT_MODULES = {
    "customers.bench",
    "customers.pagebench",
    "customers.playbooks.bench",
    "metrics.bench",
    "feedback.bench",
}


def matches(pattern: str, module: str) -> bool:
    regex = re.escape(pattern).replace(r"\*", r"[\w.]+")
    return re.fullmatch(regex, module) is not None


def layer_of(module: str) -> str | None:
    for pattern, layer in CLAIMS:
        if matches(pattern, module):
            return layer
    return None


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports_of(module: str, path: Path):
    """(imported project module, line, inside a function?) for each import."""
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    functions = {
        id(node): True
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(fn)
    }
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            if name.split(".")[0] in PACKAGES:
                yield name, node.lineno, id(node) in functions


def resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module an imported name refers to (a module, or a name in one)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


MODULES = project_modules()


def test_every_module_has_a_layer():
    assert [m for m in MODULES if layer_of(m) is None] == []


def test_the_claims_put_the_follow_up_queue_above_scoring_and_pages_on_top():
    assert layer_of("customers.followups.rules") == "queue"
    assert layer_of("customers.followups.views") == "pages"
    assert layer_of("metrics.scoring") == "scoring"
    assert layer_of("customers.models") == "data"
    assert layer_of("customers.views.settings") == "pages"
    assert layer_of("cs_platform.bulk") == "platform"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_or_sideways(module):
    own = LAYERS.index(layer_of(module))
    upward = []
    for name, line, _ in imports_of(module, MODULES[module]):
        target = resolve(name, MODULES)
        if target and LAYERS.index(layer_of(target)) > own:
            upward.append(
                f"line {line}: {module} ({LAYERS[own]}) imports {target} ({layer_of(target)})"
            )
    assert upward == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_inside_a_function_dodges_a_cycle(module):
    if module in LATE_IMPORT_MODULES:
        return
    late = {
        resolve(name, MODULES) for name, _, inside in imports_of(module, MODULES[module]) if inside
    }
    assert {(module, target) for target in late} <= LATE_IMPORTS


def test_the_walk_sees_an_upward_import_when_there_is_one(tmp_path):
    """The checker itself: a scoring module importing the queue is caught."""
    path = tmp_path / "run.py"
    path.write_text("from customers.followups import refresh\n\ndef f():\n    from . import x\n")
    found = list(imports_of("metrics.run", path))
    assert ("customers.followups.refresh", 1, False) in found
    assert ("metrics.x", 4, True) in found
    target = resolve("customers.followups.refresh", MODULES)
    assert LAYERS.index(layer_of(target)) > LAYERS.index(layer_of("metrics.run"))
