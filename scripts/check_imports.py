"""Check that the imports in src/migrationkit point inwards (DESIGN.md, "Architecture").

Usage: python scripts/check_imports.py [SRC_DIR]

Prints each offending import as `file:line: ...` and exits 1 when there is one. It uses the
standard library only, so it runs before anything is installed.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SRC = Path(__file__).resolve().parent.parent / "src"


@dataclass(frozen=True)
class Rule:
    """What the modules under `layer` may import.

    With `allowed` set, only the standard library and those names; otherwise anything but
    `forbidden`.
    """

    layer: str
    allowed: frozenset[str] | None = None
    forbidden: frozenset[str] = frozenset()

    def permits(self, name: str) -> bool:
        if self.allowed is not None:
            return name.split(".")[0] in sys.stdlib_module_names or within(name, self.allowed)
        return not within(name, self.forbidden)


# The first rule whose layer holds a module applies to it, so the narrower layers come first.
RULES = (
    Rule("migrationkit.domain", allowed=frozenset({"attrs", "migrationkit.domain"})),
    Rule(
        "migrationkit.ports",
        allowed=frozenset({"attrs", "migrationkit.domain", "migrationkit.ports"}),
    ),
    # The use cases may also read hostile XML (an uploaded e-invoice), with defusedxml: the
    # standard library's parsers expand entities and must never see it.
    Rule(
        "migrationkit.services",
        allowed=frozenset(
            {
                "attrs",
                "defusedxml",
                "migrationkit.domain",
                "migrationkit.ports",
                "migrationkit.services",
            }
        ),
    ),
    # Adapters sit under the wiring (bootstrap, cli) and the fakes; they never reach up.
    Rule(
        "migrationkit.adapters",
        forbidden=frozenset(
            {
                "examples",
                "flask",
                "migrationkit.bootstrap",
                "migrationkit.cli",
                "migrationkit.testing",
            }
        ),
    ),
    # The library ships without the portal: nothing in it may need the example or Flask.
    Rule("migrationkit", forbidden=frozenset({"examples", "flask"})),
)


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    module: str
    imported: str
    layer: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.module} imports {self.imported},"
            f" which {self.layer} may not"
        )


def within(name: str, packages: frozenset[str]) -> bool:
    """Whether the dotted `name` is one of `packages` or lies inside one."""
    return any(name == package or name.startswith(package + ".") for package in packages)


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(tree: ast.Module, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """Each (line, dotted name) that the module imports, relative imports made absolute.

    `from x import y` yields `x.y`: y may be a submodule, and a name inside x still lies in x.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")
                if not is_package:
                    package.pop()
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base]) if base else ".".join(package)
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def find_violations(src: Path) -> list[Violation]:
    """Every import under `src` that a rule forbids, in file and line order."""
    violations = []
    for path in sorted(src.rglob("*.py")):
        module = module_name(path, src)
        rule = next((rule for rule in RULES if within(module, frozenset({rule.layer}))), None)
        if rule is None:
            continue
        tree = ast.parse(path.read_bytes(), filename=str(path))
        for line, name in imported_names(tree, module, path.name == "__init__.py"):
            if not rule.permits(name):
                violations.append(Violation(path, line, module, name, rule.layer))
    return violations


def main(argv: Sequence[str]) -> int:
    src = Path(argv[0]) if argv else DEFAULT_SRC
    try:
        violations = find_violations(src)
    except SyntaxError as error:
        print(f"{error.filename}:{error.lineno}: cannot parse: {error.msg}")
        return 1
    for violation in violations:
        print(violation)
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
