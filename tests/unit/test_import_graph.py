"""No import circle anywhere in the package: no module imports one that imports it back.

The graph is read from the source with ast (tests/import_graph.py): every import counts — at the top,
inside a function, under `if TYPE_CHECKING:` — and relative imports are resolved against the importing
module. The check runs as `python -c` over the package's import graph, as a user would run it.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from import_graph import cycles, graph

TESTS = Path(__file__).resolve().parent.parent
PRINT_CYCLES = ("import json, sys; sys.path.insert(0, sys.argv[1]); import import_graph as g; "
                "edges = g.graph(); print(json.dumps({'modules': len(edges), 'edges': sum(map(len, edges.values())), "
                "'cycles': g.cycles(edges)}))")


def test_the_package_has_no_import_cycle() -> None:
    done = subprocess.run([sys.executable, "-c", PRINT_CYCLES, str(TESTS)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["modules"] > 50 and found["edges"] > 100, f"the walk found too little: {found}"
    assert found["cycles"] == []


def test_the_walk_sees_relative_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    """The check itself can fail: a cycle through a lazy import and one under TYPE_CHECKING."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from .sub import b\n")
    (package / "sub" / "b.py").write_text("from typing import TYPE_CHECKING\n"
                                          "if TYPE_CHECKING:\n    from ..a import f\n")
    (package / "c.py").write_text("from . import a\n")
    edges = graph(package, "pkg")
    assert edges["pkg.a"] == {"pkg.sub", "pkg.sub.b"}
    assert edges["pkg.sub.b"] == {"pkg.a"}
    assert edges["pkg.c"] == {"pkg", "pkg.a"}
    assert cycles(edges) == [["pkg.a", "pkg.sub.b"]]

