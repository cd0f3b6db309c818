"""The layers only point down (docs/DEVELOPING.md, "Layers").

Walks the imports (ast, no module is executed) of every module of the ground
(`trialmon/`), `etl/`, `indicators/`, `dashboard/`, the shell (`shell/`, `app.py`) and
fails on
* an import that runs up a layer (or across, where a narrower rule applies),
* a circle among the project's modules (module-level and function-level imports alike),
* an import inside a function without a comment saying it saves start-up time
  (on the import line or the line just above it: "start-up").
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Lowest first: a module may import its own layer and the layers below it.
LAYERS = ["trialmon", "etl", "indicators", "dashboard", "shell"]
TOP_LEVEL_SHELL = {"app"}  # app.py is the shell's WSGI/`python app.py` entry
# Narrower than "anything below": indicators read the register columns' names and
# types from the input contract (the shape of the stored rows) and nothing else of
# etl; the dashboard reads published tables and indicator metadata, never etl.
ALLOWED_FROM = {("indicators", "etl"): {"etl.contract"}, ("dashboard", "etl"): set()}
STARTUP_MARK = "start-up"


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported project module, dotted
    line: int
    in_function: bool
    commented: bool

    def where(self) -> str:
        return f"{self.source.replace('.', '/')}.py:{self.line}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_files() -> list[Path]:
    files = [ROOT / "app.py"]
    for package in LAYERS:
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def layer_of(module: str) -> str | None:
    root = module.split(".")[0]
    if root in TOP_LEVEL_SHELL:
        return "shell"
    return root if root in LAYERS else None


def _resolve(source: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = source.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(path: Path) -> list[Import]:
    source = module_name(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    tree = ast.parse("\n".join(lines), filename=str(path))
    inner = {id(node) for fn in ast.walk(tree)
             if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
             for node in ast.walk(fn) if isinstance(node, ast.Import | ast.ImportFrom)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(source, node, path.name == "__init__.py")
            # `from indicators import texts` imports the submodule indicators.texts
            targets = [f"{module}.{a.name}" if _is_module(f"{module}.{a.name}") else module
                       for a in node.names]
        else:
            continue
        nearby = " ".join(_comment_block(lines, node.lineno, node.end_lineno))
        for target in targets:
            found.append(Import(source, target, node.lineno, id(node) in inner,
                                STARTUP_MARK in nearby))
    return found


def _comment_block(lines: list[str], first: int, last: int) -> list[str]:
    """The import's own lines and the run of import/comment lines just above it, so one
    comment can speak for a block of lazy imports."""
    start = first - 1
    while start > 0 and lines[start - 1].strip().startswith(("#", "from ", "import ")):
        start -= 1
    return lines[start:last]


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def all_imports() -> list[Import]:
    return [imp for path in project_files() for imp in imports_of(path)]


def upward(imp: Import) -> str | None:
    """Why `imp` breaks the layering, or None."""
    source, target = layer_of(imp.source), layer_of(imp.target)
    if source is None or target is None:
        return None
    if LAYERS.index(target) > LAYERS.index(source):
        return f"{imp.where()}: {source} imports {imp.target}, a layer above it"
    allowed = ALLOWED_FROM.get((source, target))
    if allowed is not None and not any(imp.target == a or imp.target.startswith(a + ".")
                                       for a in allowed):
        return f"{imp.where()}: {source} may import only {sorted(allowed)} of {target}, " \
               f"not {imp.target}"
    return None


def circles(imports: list[Import]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if layer_of(imp.target) and _is_module(imp.target) and imp.target != imp.source:
            graph.setdefault(imp.source, set()).add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# ------------------------------------------------------------------------------ tests

def test_every_layer_package_is_walked():
    modules = {module_name(p) for p in project_files()}
    assert {"trialmon.db", "etl.register", "indicators.engine", "dashboard.app",
            "shell.cli", "app"} <= modules


def test_no_import_runs_up_a_layer():
    assert [why for imp in all_imports() if (why := upward(imp))] == []


def test_no_circle_among_modules():
    assert circles(all_imports()) == []


def test_imports_inside_functions_only_to_save_start_up_time():
    hidden = [f"{imp.where()}: {imp.target}" for imp in all_imports()
              if imp.in_function and not imp.commented]
    assert hidden == []


# The checks themselves, on hand-written sources: each must be able to fail.

@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    import tests.test_layers as me

    monkeypatch.setattr(me, "ROOT", tmp_path)
    for package in ("trialmon", "etl", "indicators", "dashboard", "shell"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for module in ("trialmon/db.py", "etl/contract.py", "etl/register.py",
                   "indicators/engine.py", "dashboard/app.py", "shell/cli.py"):
        (tmp_path / module).write_text("")

    def parse(relative: str, text: str) -> list[Import]:
        (tmp_path / relative).write_text(text, encoding="utf-8")
        return imports_of(tmp_path / relative)

    return parse


def test_checks_catch_an_upward_import(fake_root):
    bad = fake_root("trialmon/db.py", "from etl.register import x\n")
    assert [upward(i) for i in bad] == [
        "trialmon/db.py:1: trialmon imports etl.register, a layer above it"]
    assert [upward(i) for i in fake_root("shell/cli.py", "import dashboard.app\n")] == [None]


def test_checks_hold_indicators_to_the_contract_of_etl(fake_root):
    allowed = fake_root("indicators/engine.py", "from etl.contract import COLUMNS\n")
    refused = fake_root("indicators/engine.py", "from etl import register\n")
    assert upward(allowed[0]) is None
    assert "may import only ['etl.contract']" in upward(refused[0])


def test_checks_catch_a_circle_and_a_hidden_import(fake_root):
    first = fake_root("etl/register.py", "def f():\n    from etl.contract import x\n")
    second = fake_root("etl/contract.py", "import etl.register\n")
    assert circles(first + second) == [["etl.contract", "etl.register"]]
    assert [(i.in_function, i.commented) for i in first] == [(True, False)]
    marked = fake_root("etl/register.py",
                       "def f():\n    # start-up: polars costs 0.5 s\n    import etl.contract\n")
    assert [(i.in_function, i.commented) for i in marked] == [(True, True)]
