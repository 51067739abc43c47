"""The README's Python examples run as written."""

import ast
import gzip
import re
import secrets
from pathlib import Path
from types import CodeType

import pytest

from resentry_core import IngestResult, Page
from tests import factories as f

README = Path(__file__).resolve().parent.parent / "README.md"


def _example(heading: str, *, top_level_await: bool = False) -> CodeType:
    """The first Python block after ``heading``, compiled."""
    section = README.read_text(encoding="utf-8").split(f"## {heading}\n", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert block is not None
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT if top_level_await else 0
    code: CodeType = compile(block.group(1), str(README), "exec", flags=flags)
    return code


def test_readme_codec_example_runs() -> None:
    """The "Using the codec from Python" block parses a gzip envelope and a DSN as it says."""
    namespace: dict[str, object] = {"request_body": gzip.compress(f.error_envelope())}
    exec(_example("Using the codec from Python"), namespace)  # noqa: S102 - our own README
    assert namespace["event"] is not None
    assert str(namespace["dsn"]).endswith("@errors.example.com/errors/42")


async def test_readme_embedding_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The "Embedding the core" block stores an envelope and finds its issue."""
    monkeypatch.chdir(tmp_path)  # its database is ./resentry.db
    namespace: dict[str, object] = {
        "my_secret": secrets.token_urlsafe(48),
        "envelope_bytes": f.error_envelope(),
    }
    code = _example("Embedding the core", top_level_await=True)
    await eval(code, namespace)  # noqa: S307 - our own README; top-level await gives a coroutine
    assert (tmp_path / "resentry.db").exists()
    result, issues = namespace["result"], namespace["issues"]
    assert isinstance(result, IngestResult)
    assert isinstance(issues, Page)
    assert result.issue_id is not None
    assert [issue.id for issue in issues.items] == [result.issue_id]
