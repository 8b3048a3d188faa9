"""The dependency rule between the layers and domains of src/civicstack, read from the source:
kit knows no domain, a domain reaches another only through its service, its models or what it
lists in PUBLIC, and no two domains depend on each other, directly or around a loop."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import civicstack

PACKAGE_DIR = Path(civicstack.__file__).parent
DOMAINS = frozenset({"registry", "identity", "organisations", "oidc", "wallet", "services",
                     "biometrics", "travel", "exchange", "monitoring", "learning", "support",
                     "security"})
# What stands above the domains and assembles them: kit must not know it either.
ASSEMBLY = frozenset({"civicstack.app", "civicstack.cli", "civicstack.domains",
                      "civicstack.worker"})
ALWAYS_OPEN = ("service", "models")  # what every domain offers the others


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    imported: str  # dotted module name (a package's own name for its __init__)
    line: int

    def __str__(self) -> str:
        return f"{self.importer} (line {self.line}) imports {self.imported}"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(dotted: str) -> bool:
    place = PACKAGE_DIR.parent.joinpath(*dotted.split("."))
    return place.with_suffix(".py").is_file() or (place / "__init__.py").is_file()


@cache
def source_files() -> tuple[Path, ...]:
    return tuple(sorted(PACKAGE_DIR.rglob("*.py")))


def _base_of(node: ast.ImportFrom, importer: str, path: Path) -> str:
    """The module a `from ... import` names, relative imports resolved against the importer."""
    if node.level == 0:
        return node.module or ""
    package = importer.split(".") if path.name == "__init__.py" else importer.split(".")[:-1]
    anchor = package[:len(package) - (node.level - 1)]
    return ".".join([*anchor, node.module] if node.module else anchor)


def imports_of(path: Path) -> Iterator[Import]:
    """Every import in the file, at the top or inside a function: `from a.b import c` names the
    module a.b.c when c is one, a.b otherwise."""
    importer = module_name(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(importer, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _base_of(node, importer, path)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield Import(importer, candidate if is_module(candidate) else base, node.lineno)


@cache
def project_imports() -> tuple[Import, ...]:
    return tuple(dict.fromkeys(  # `from x import a, b` of one module names it once
        found for path in source_files() for found in imports_of(path)
        if found.imported == "civicstack" or found.imported.startswith("civicstack.")))


def domain_of(dotted: str) -> str | None:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in DOMAINS else None


@cache
def public_of(domain: str) -> frozenset[str]:
    """The modules a domain lists in `PUBLIC = (...)` in its __init__.py, read without running
    it."""
    tree = ast.parse((PACKAGE_DIR / domain / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
        if isinstance(target, ast.Name) and target.id == "PUBLIC" and node.value is not None:
            return frozenset(ast.literal_eval(node.value))
    return frozenset()


def cross_domain_imports() -> Iterator[tuple[Import, str, str]]:
    for found in project_imports():
        source, target = domain_of(found.importer), domain_of(found.imported)
        if source is not None and target is not None and source != target:
            yield found, source, target


def test_the_project_has_its_domains_and_kit() -> None:
    """Guards the tests below against passing because they read nothing."""
    assert {path.parent.name for path in source_files()} >= DOMAINS | {"kit"}
    assert len(project_imports()) > 500


def test_kit_imports_no_domain_and_nothing_that_assembles_them() -> None:
    offenders = [str(found) for found in project_imports()
                 if found.importer.startswith("civicstack.kit.")
                 and (domain_of(found.imported) is not None
                      or found.imported in ASSEMBLY
                      or any(found.imported.startswith(f"{above}.") for above in ASSEMBLY))]
    assert not offenders, "kit/ sits beneath the domains:\n" + "\n".join(offenders)


def test_a_domain_reaches_another_only_through_its_service_models_or_public_modules() -> None:
    offenders = []
    for found, _, target in cross_domain_imports():
        doors = sorted({*ALWAYS_OPEN, *public_of(target)})
        if found.imported not in {f"civicstack.{target}.{door}" for door in doors}:
            offenders.append(f"{found}: civicstack.{target} offers only {', '.join(doors)}")
    assert not offenders, "imports past another domain's door:\n" + "\n".join(offenders)


def _domain_graph() -> dict[str, dict[str, list[Import]]]:
    graph: dict[str, dict[str, list[Import]]] = {domain: {} for domain in DOMAINS}
    for found, source, target in cross_domain_imports():
        graph[source].setdefault(target, []).append(found)
    return graph


def _loops(graph: dict[str, dict[str, list[Import]]]) -> list[list[str]]:
    """The strongly connected groups of more than one domain (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(domain: str) -> None:
        index[domain] = lowest[domain] = len(index)
        stack.append(domain)
        for other in sorted(graph[domain]):
            if other not in index:
                visit(other)
                lowest[domain] = min(lowest[domain], lowest[other])
            elif other in stack:
                lowest[domain] = min(lowest[domain], index[other])
        if lowest[domain] == index[domain]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == domain:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for domain in sorted(graph):
        if domain not in index:
            visit(domain)
    return groups


def test_no_two_domains_depend_on_each_other_even_around_a_loop() -> None:
    graph = _domain_graph()
    reports = []
    for group in _loops(graph):
        reports.append(" <-> ".join(group) + " depend on each other through:")
        for source in group:
            for target in sorted(set(graph[source]) & set(group)):
                reports.append(f"  {source} -> {target}:")
                reports.extend(f"    {found}" for found in graph[source][target])
    assert not reports, "import loops between domains:\n" + "\n".join(reports)
