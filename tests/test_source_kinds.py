"""Source kinds: one object per kind, in one catalogue, and a package without import cycles."""

import ast
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from watcher.config import load_config
from watcher.filters import SOURCE_FAMILIES, source_family
from watcher.sources import catalog
from watcher.sources.base import SourceConfig, SourceKind
from watcher.sources.catalog import KINDS

PACKAGE = Path(__file__).resolve().parents[1] / "watcher"


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        names[name] = path
    return names


MODULES = module_names()


def _is_type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _statements(body: list[ast.stmt], *, lazy: bool, typing: bool = False) -> Iterator[ast.stmt]:
    """Statements run at import time (and, with ``lazy``, those inside functions too;
    with ``typing``, those under ``if TYPE_CHECKING:`` as well)."""
    for node in body:
        if _is_type_checking(node) and not typing:
            continue
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not lazy:
            continue
        for field in ("body", "orelse", "finalbody", "handlers"):
            children = getattr(node, field, None)
            if isinstance(children, list):
                yield from _statements(
                    [c for c in children if isinstance(c, ast.stmt)], lazy=lazy, typing=typing
                )
            if field == "handlers" and isinstance(children, list):
                for handler in children:
                    yield from _statements(handler.body, lazy=lazy, typing=typing)


def imports_of(module: str, *, lazy: bool, typing: bool = False) -> set[str]:
    """The watcher modules ``module`` imports."""
    found: set[str] = set()
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in _statements(tree.body, lazy=lazy, typing=typing):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in MODULES else node.module)
    return {name for name in found if name in MODULES and name != module}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_another_that_imports_it_back_at_import_time() -> None:
    graph = {module: imports_of(module, lazy=False) for module in MODULES}
    assert cycles(graph) == []


def test_configuration_and_sources_have_no_cycle_even_through_lazy_imports() -> None:
    graph = {module: imports_of(module, lazy=True) for module in MODULES}
    ours = ("watcher.config", "watcher.items", "watcher.durations", "watcher.sources")
    involved = [group for group in cycles(graph) if any(m.startswith(ours) for m in group)]
    assert involved == []
    for module in MODULES:
        if module.startswith("watcher.sources"):
            assert "watcher.config" not in imports_of(module, lazy=True), module


def test_no_cycle_anywhere_even_through_type_only_and_lazy_imports() -> None:
    # The bot, the delivery stage and the runtime once closed a circle of seven modules
    # through ``if TYPE_CHECKING:`` imports: the bot now sees only ``bot.deps``.
    graph = {module: imports_of(module, lazy=True, typing=True) for module in MODULES}
    assert cycles(graph) == []
    for module in MODULES:
        if module.startswith("watcher.bot"):
            assert "watcher.runtime" not in imports_of(module, lazy=True, typing=True) or (
                module == "watcher.bot.target"  # builds the handlers' BotDeps from the service
            ), module


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_module_that_declares_a_kind_is_in_the_catalogue() -> None:
    declaring = {
        path.stem
        for path in (PACKAGE / "sources").glob("*.py")
        if any(
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "KIND" for t in node.targets)
            for node in ast.parse(path.read_text(encoding="utf-8")).body
        )
    }
    listed = {kind.read.__module__.rsplit(".", 1)[-1] for kind in KINDS.values()}
    assert declaring == listed


@pytest.mark.parametrize("kind", KINDS.values(), ids=list(KINDS))
def test_each_kind_is_one_object_with_typed_options(kind: SourceKind[object]) -> None:
    assert dataclasses.is_dataclass(kind.options)
    assert kind.options.__dataclass_params__.frozen  # type: ignore[attr-defined]
    defaults = kind.options()  # every option has its default in the dataclass
    for declared in dataclasses.fields(kind.options):  # type: ignore[arg-type]
        assert callable(declared.metadata.get("parse")), (kind.name, declared.name)
        assert getattr(defaults, declared.name) is not None


def test_each_kind_has_its_own_french_label() -> None:
    labels = [kind.label for kind in KINDS.values()]
    assert all(label.strip() for label in labels)
    assert len(set(labels)) == len(labels)


def test_a_house_has_one_kind_whose_stream_reads_its_dossiers() -> None:
    houses = [kind.stream.house for kind in KINDS.values() if kind.stream is not None]
    assert sorted(houses) == ["an", "senat"]


def test_the_generic_probe_shapes_come_after_the_specific_ones_of_their_form() -> None:
    # probe asks the kinds in catalogue order, generic shapes last: the Sénat's feed
    # before any feed, the WebDélib+ and RAA pages before any HTML page.
    shapes = {name: kind.probe for name, kind in KINDS.items() if kind.probe is not None}
    generic = {name for name, shape in shapes.items() if shape.generic}
    assert generic == {"rss", "html"}
    assert {"senat", "webdelib", "raa", "scdl", "arcgis", "opendatasoft"} <= set(shapes)


def test_each_kind_names_a_family_the_chats_can_choose() -> None:
    families = {family for family, _ in SOURCE_FAMILIES}
    assert {kind.family for kind in KINDS.values()} <= families | {""}
    assert {name for name, kind in KINDS.items() if kind.family == "parlement"} == {
        "senat",
        "assemblee",
    }


def test_a_source_is_of_its_kinds_family_unless_its_address_says_cnil_or_prefecture() -> None:
    def family(kind: str, url: str, source_id: str = "s", territory: str = "") -> str:
        return source_family(SourceConfig(source_id, "S", kind, url, 60, (), territory=territory))

    assert family("legifrance", "https://api.piste.gouv.fr/dila/legifrance") == "jo"
    # The shipped feeds.yml reads the CNIL's deliberations from the DILA's archives.
    assert family("dila", "https://echanges.dila.gouv.fr/OPENDATA/CNIL/") == "cnil"
    assert family("raa", "https://www.example.gouv.fr/Publications/Publications-legales") == (
        "prefectures"
    )
    assert family("webdelib", "https://deliberations.example.fr/") == "collectivites"
    assert family("rss", "https://example.org/feed") == ""
    assert family("rss", "https://example.org/feed", territory="Rennes Métropole") == (
        "collectivites"
    )


def test_only_the_kinds_that_read_scans_ask_for_ocr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog, "ocr_problem", lambda: "OCR is not installed")
    raa = SourceConfig("r", "R", "raa", "https://www.example.gouv.fr/RAA", 60, ())
    feed = SourceConfig("f", "F", "rss", "https://example.org/feed", 60, ())
    assert [kind.name for kind in KINDS.values() if kind.scans] == ["raa"]
    assert catalog.ocr_warning([feed]) is None
    assert catalog.ocr_warning([feed, raa]) == "OCR is not installed"


def test_no_module_compares_a_source_kind_with_a_kind_name() -> None:
    """What differs between kinds is asked of the kind (``SourceKind``), never written
    as ``source.kind == "raa"`` elsewhere."""
    found = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            names_kind = any(ast.unparse(side).split(".")[-1] == "kind" for side in sides)
            literals = {
                c.value
                for side in sides
                for c in ast.walk(side)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            }
            if names_kind and literals & set(KINDS):
                found.append(f"{name}:{node.lineno}")
    assert found == []


README = PACKAGE.parent / "README.md"


def readme_kinds_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("### Source kinds")
    return text[start : text.index("\n### ", start + 1)]


@pytest.mark.parametrize("kind", KINDS.values(), ids=list(KINDS))
def test_readme_documents_each_kind_with_its_options(kind: SourceKind[object]) -> None:
    rows = [
        line
        for line in readme_kinds_section().splitlines()
        if line.startswith(f"| `{kind.name}` |")
    ]
    assert len(rows) == 1, f"README: no row for kind {kind.name}"
    for declared in dataclasses.fields(kind.options):  # type: ignore[arg-type]
        assert f"`{declared.name}`" in rows[0], (kind.name, declared.name)


def test_readme_example_entries_are_valid_and_cover_every_kind(tmp_path: Path) -> None:
    section = readme_kinds_section()
    examples = section[
        section.index("```yaml\n") + 8 : section.index("```", section.index("```yaml") + 7)
    ]
    path = tmp_path / "feeds.yml"
    path.write_text(
        "topics:\n  t:\n    keywords: [reconnaissance faciale]\n" + examples, encoding="utf-8"
    )
    config = load_config(path)
    assert {source.kind for source in config.sources} == set(KINDS)
