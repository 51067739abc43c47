"""The README and ``docs/`` name only files that exist in this repository."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_TOP = (
    "resentry_core/",
    "resentry_server/",
    "resentry_client/",
    "tests/",
    "docs/",
    "bench/",
    "examples/",
    ".ci/",
)
# A relative Markdown link, or a backticked path under one of the repository's directories.
_LINK = re.compile(r"\]\((?!https?://|#)([^)#\s]+)")
_PATH = re.compile(r"`((?:" + "|".join(re.escape(top) for top in _TOP) + r")[^`\s]*)`")
# A backticked module of a package named without its package: `_ingest.py`, `_storage/_sql*.py`.
_MODULE = re.compile(r"`((?:_?\w+/)*_\w*\*?\w*\.py)`")


def _named_paths(doc: Path) -> list[tuple[str, Path]]:
    text = doc.read_text(encoding="utf-8")
    named = [(link, doc.parent / link) for link in _LINK.findall(text)]
    named += [(path, ROOT / path) for path in _PATH.findall(text)]
    return [(name, path) for name, path in named if not re.search(r"[<>{}]", name)]


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.name)
def test_named_files_exist(doc: Path) -> None:
    """Every file or directory a document names exists (``*`` patterns match something)."""
    missing = [
        name
        for name, path in _named_paths(doc)
        if not (any(path.parent.glob(path.name)) if "*" in path.name else path.exists())
    ]
    assert missing == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.name)
def test_named_modules_exist(doc: Path) -> None:
    """Every private module a document names, without its package, is in one of the packages."""
    packages = [ROOT / "resentry_core", ROOT / "resentry_server", ROOT / "resentry_client"]
    missing = [
        module
        for module in _MODULE.findall(doc.read_text(encoding="utf-8"))
        if not module.startswith(_TOP)
        and not any(any(package.rglob(module)) for package in packages)
    ]
    assert missing == []


def test_documents_name_files() -> None:
    """The check above has something to check in the module map."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert len(_named_paths(ROOT / "docs" / "architecture.md")) > 20
    assert len(_MODULE.findall(text)) > 20
