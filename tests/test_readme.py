"""The README's codec example runs as written."""

import gzip
import re
from pathlib import Path

from tests import factories as f

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_codec_example_runs() -> None:
    """The "Using the codec from Python" block parses a gzip envelope and a DSN as it says."""
    section = README.read_text(encoding="utf-8").split("## Using the codec from Python", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert block is not None
    namespace: dict[str, object] = {"request_body": gzip.compress(f.error_envelope())}
    exec(compile(block.group(1), str(README), "exec"), namespace)  # noqa: S102 - our own README
    assert namespace["event"] is not None
    assert str(namespace["dsn"]).endswith("@errors.example.com/errors/42")
