"""Where a client's server URL and tokens come from, and the CLI's stored login.

Explicit arguments win, then ``RESENTRY_URL`` / ``RESENTRY_TOKEN``, then the login that
``resentry-client login`` stored in ``$XDG_CONFIG_HOME/resentry/login.json`` (by default
``~/.config/resentry/login.json``, mode 0600). Stored tokens are only sent to the server they
came from, and refreshed tokens are written back, so the stored login stays valid.
"""

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from resentry_client._errors import ResentryClientError
from resentry_client._flow import RetryPolicy, Session
from resentry_client._models import Tokens

URL_ENV = "RESENTRY_URL"
TOKEN_ENV = "RESENTRY_TOKEN"  # noqa: S105 - the name of a variable, not a secret
LOGIN_FILE = "login.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredLogin:
    """What ``resentry-client login`` keeps: the server, the user and the token pair."""

    url: str
    username: str
    access_token: str
    refresh_token: str


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/resentry``, or ``~/.config/resentry``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "resentry"


def login_path() -> Path:
    """The file of the stored login."""
    return config_dir() / LOGIN_FILE


def load_login() -> StoredLogin | None:
    """The stored login, or None when there is none.

    Raises:
        ResentryClientError: the file exists but is not a stored login.
    """
    path = login_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return StoredLogin(**{name: str(data[name]) for name in StoredLogin.__dataclass_fields__})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ResentryClientError(
            f"{path} is not a stored login ({exc}); log in again or delete it"
        ) from None


def save_login(login: StoredLogin) -> Path:
    """Write the stored login (mode 0600, its directory 0700), atomically."""
    path = login_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".login-")  # mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(asdict(login), file, indent=2)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def forget_login() -> bool:
    """Delete the stored login; False when there was none."""
    try:
        login_path().unlink()
    except FileNotFoundError:
        return False
    return True


def same_server(a: str, b: str) -> bool:
    """Whether two base URLs name the same server and prefix."""
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def make_session(
    base_url: str | None,
    *,
    token: str | None,
    refresh_token: str | None,
    timeout: float | httpx.Timeout | None,
    retry: RetryPolicy,
) -> Session:
    """Resolve the URL and tokens (arguments, then environment, then the stored login).

    Raises:
        ResentryClientError: no URL anywhere, or an unreadable stored login.
    """
    stored = load_login() if base_url is None or token is None else None
    url = base_url or os.environ.get(URL_ENV) or (stored.url if stored else None)
    if not url:
        raise ResentryClientError(
            f"no server URL: pass base_url= (--url), set {URL_ENV} or run `resentry-client login`"
        )
    on_tokens = None
    if token is None and refresh_token is None and (env_token := os.environ.get(TOKEN_ENV)):
        token = env_token
    elif token is None and refresh_token is None and stored and same_server(stored.url, url):
        token, refresh_token = stored.access_token, stored.refresh_token

        def on_tokens(tokens: Tokens | None, login: StoredLogin = stored) -> None:
            if tokens is None:
                forget_login()
            else:
                save_login(
                    StoredLogin(
                        url=login.url,
                        username=login.username,
                        access_token=tokens.access_token,
                        refresh_token=tokens.refresh_token,
                    )
                )

    return Session(
        url,
        access_token=token,
        refresh_token=refresh_token,
        timeout=timeout
        if timeout is None or isinstance(timeout, httpx.Timeout)
        else httpx.Timeout(timeout),
        retry=retry,
        on_tokens=on_tokens,
    )
