"""Developer sessions: ``nox -s lint typecheck imports tests``."""

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "imports", "tests"]

DEV = [".[all]", "pytest", "hypothesis", "sentry-sdk", "psutil", "trio"]


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Strict mypy over the packages, tests, benchmarks and examples."""
    session.install(*DEV, "mypy", "types-psutil", "nox")
    session.run("mypy")


@nox.session
def imports(session: nox.Session) -> None:
    """Import-boundary contracts (import-linter)."""
    session.install(".[all]", "import-linter")
    session.run("lint-imports")


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite; extra arguments go to pytest."""
    session.install(*DEV)
    session.run("pytest", *session.posargs)
