"""Each package has one curated surface, and the server uses only the core's public names.

``resentry_core.storage`` is the core's second public module: the extension point for storage
backends.
"""

import ast
import importlib
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["resentry_core", "resentry_server", "resentry_client"]
PUBLIC_MODULES = [*PACKAGES, "resentry_core.storage"]


def _isort_key(name: str) -> tuple[int, str]:
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_complete(name: str) -> None:
    """``__all__`` is sorted (constants, classes, functions: ruff's RUF022 order), names only
    what exists, and misses no public name."""
    package = importlib.import_module(name)
    exported = list(package.__all__)
    assert exported == sorted(exported, key=_isort_key)
    for attribute in exported:
        assert hasattr(package, attribute), attribute
    public = {
        attribute
        for attribute, value in vars(package).items()
        if not attribute.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(exported)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_exported_classes_and_functions_are_documented(name: str) -> None:
    """Every class and function a public module exports has a docstring of its own (not the
    signature ``dataclass`` writes when there is none)."""
    package = importlib.import_module(name)
    undocumented = [
        attribute
        for attribute in package.__all__
        if isinstance(value := getattr(package, attribute), type | types.FunctionType)
        and (not value.__doc__ or value.__doc__.startswith(f"{value.__name__}("))
    ]
    assert undocumented == []


def _imports_of(path: Path) -> list[str]:
    """Every imported module, and ``module.name`` for each name taken ``from`` a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_server_uses_only_public_core_names() -> None:
    """``resentry_server`` imports the names of ``resentry_core`` and ``resentry_core.storage``,
    never private modules or names."""
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted((ROOT / "resentry_server").rglob("*.py"))
        for module in _imports_of(path)
        if module.startswith("resentry_core.") and "._" in module
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        (
            "resentry_core",
            ("resentry_server", "resentry_client", "fastapi", "starlette", "uvicorn"),
        ),
        ("resentry_client", ("resentry_core", "resentry_server", "fastapi", "sqlalchemy")),
    ],
)
def test_import_boundaries(package: str, forbidden: tuple[str, ...]) -> None:
    """The core is framework-agnostic and the client stands alone (also checked by
    import-linter in CI, including indirect imports)."""
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for module in _imports_of(path)
        if module.split(".")[0] in forbidden
    ]
    assert offenders == []
