"""docs/security.md names, for each control, the test that proves it: every test it names must
exist, so that a renamed or deleted test cannot leave the document claiming a proof that is gone.

A proof is written `tests/test_x.py`, `tests/test_x.py::TestClass::test_name`, and, after one of
those in the same cell, `::TestOther` or `…the_end_of_a_name` (any test or class of that file whose
name ends so); a name with `*` matches as a shell pattern."""

from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security.md"
CODE = re.compile(r"`([^`]+)`")


def names_in(path: Path) -> set[str]:
    """Every class and function name defined in the file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    kinds = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {node.name for node in ast.walk(tree) if isinstance(node, kinds)}


def missing_in(path: Path, parts: list[str]) -> list[str]:
    defined = names_in(path)
    wrong = []
    for part in parts:
        if part.startswith("…"):
            if not any(name.endswith(part[1:]) for name in defined):
                wrong.append(f"{path.name}: nothing ends with {part[1:]!r}")
        elif "*" in part:
            if not fnmatch.filter(defined, part):
                wrong.append(f"{path.name}: nothing matches {part!r}")
        elif part not in defined:
            wrong.append(f"{path.name}: no {part!r}")
    return wrong


def proofs_of(cell: str) -> list[tuple[str, list[str]]]:
    """(file, names) for each test reference of a table cell, `::x` and `…x` read against the
    file named before them in the cell."""
    found: list[tuple[str, list[str]]] = []
    current: str | None = None
    for code in CODE.findall(cell):
        if code.startswith("tests/"):
            file, *parts = code.split("::")
            current = file
            found.append((file, [p for p in parts if p]))
        elif current is not None and (code.startswith("::") or code.startswith("…")):
            found.append((current, [p for p in code.split("::") if p]))
    return found


def test_every_test_the_document_names_exists() -> None:
    wrong: list[str] = []
    checked = 0
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        for file, parts in proofs_of(line):
            path = ROOT / file
            checked += 1
            if not path.is_file():
                wrong.append(f"no file {file}")
            elif parts:
                wrong.extend(missing_in(path, parts))
    assert checked > 50  # the document's tables were read
    assert not wrong, "\n".join(wrong)


def test_the_reader_catches_a_missing_proof(tmp_path: Path) -> None:
    """The check above can fail: a name that is not there, a suffix nothing has, a file."""
    module = tmp_path / "test_example.py"
    module.write_text("class TestA:\n    def test_it_works(self):\n        pass\n")
    assert missing_in(module, ["TestA", "test_it_works", "…_works", "test_it_*"]) == []
    assert missing_in(module, ["TestB", "…_fails", "test_not_*"]) == [
        "test_example.py: no 'TestB'",
        "test_example.py: nothing ends with '_fails'",
        "test_example.py: nothing matches 'test_not_*'",
    ]
    cell = "| x | `a.b` | `tests/test_x.py::TestA`, `::TestB`, `…end` and `tests/test_y.py` |"
    assert proofs_of(cell) == [
        ("tests/test_x.py", ["TestA"]),
        ("tests/test_x.py", ["TestB"]),
        ("tests/test_x.py", ["…end"]),
        ("tests/test_y.py", []),
    ]
