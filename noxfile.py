"""Developer sessions: ``nox -s lint typecheck imports tests``.

Every session installs the project and its ``dev`` dependency group from ``uv.lock`` with
``uv sync --frozen``, into the session's own virtualenv: ``pyproject.toml`` is the one list of
dependencies, and nox runs the same versions as ``uv run`` and CI (``.ci/run``).
"""

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "typecheck", "imports", "tests"]


def _sync(session: nox.Session) -> None:
    """Install the locked project and its default dependency groups into the session's venv."""
    session.run_install(
        "uv",
        "sync",
        "--frozen",
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        external=True,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    _sync(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Strict mypy over the packages, tests, benchmarks and examples."""
    _sync(session)
    session.run("mypy")


@nox.session
def imports(session: nox.Session) -> None:
    """Import-boundary contracts (import-linter)."""
    _sync(session)
    session.run("lint-imports")


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite; extra arguments go to pytest."""
    _sync(session)
    session.run("pytest", *session.posargs)
