"""Every program in ``examples/`` runs and does what it says."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(script: str, *args: str) -> str:
    completed = subprocess.run(  # noqa: S603 - our own example with the test interpreter
        [sys.executable, str(ROOT / "examples" / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_embed_core_groups_three_events_into_one_issue(tmp_path: Path) -> None:
    """``embed_core.py`` stores three events of one bug and lists one issue seen 3 times."""
    out = _run("embed_core.py", f"sqlite:///{tmp_path / 'embed.db'}")
    assert out.count("stored event ") == 3
    issue_lines = [line for line in out.splitlines() if line.startswith("issue ")]
    assert len(issue_lines) == 1
    assert "ZeroDivisionError: division by zero" in issue_lines[0]
    assert issue_lines[0].endswith("seen 3x")


def test_custom_notifier_is_called_for_a_new_issue() -> None:
    """``custom_notifier.py`` prints the new issue its own notifier received."""
    out = _run("custom_notifier.py")
    assert out.splitlines() == ["new_issue: KeyError: 'sku'"]
