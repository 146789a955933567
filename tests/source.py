"""The project's own source as parsed modules, for the tests that police its layout."""

import ast
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fangkong"


@dataclass
class Module:
    """One module of fangkong/: its dotted name, path, syntax tree and what it imports."""

    name: str
    path: Path
    tree: ast.Module
    # Every module or name imported anywhere in the file (inside functions too), absolute.
    imports: set[str] = field(default_factory=set)

    @property
    def rel(self) -> str:
        return self.path.relative_to(ROOT).as_posix()


def _imports(tree: ast.Module, name: str, is_package: bool) -> set[str]:
    base = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = base[: len(base) - (node.level - 1)]
                module = ".".join(parent + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)
    return found


@cache
def modules() -> dict[str, Module]:
    """Every module of fangkong/ but migrations, by dotted name."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        name = ".".join(parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found[name] = Module(name, path, tree, _imports(tree, name, is_package))
    return found


def import_graph() -> dict[str, set[str]]:
    """Module → the modules of fangkong/ it imports (a name imported from a package counts as
    the submodule when there is one, else as the package)."""
    mods = modules()
    return {m.name: {i for i in m.imports if i in mods and i != m.name} for m in mods.values()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def calls(tree: ast.AST, names: set[str]):
    """Every call to a function named one of `names` (plain or as an attribute), with the
    function definitions enclosing it (innermost last)."""

    def walk(node, enclosing):
        for child in ast.iter_child_nodes(node):
            inner = enclosing
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = [*enclosing, child]
            if isinstance(child, ast.Call):
                f = child.func
                called = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
                if called in names:
                    yield child, inner
            yield from walk(child, inner)

    yield from walk(tree, [])
