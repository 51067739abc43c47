"""Where a client's URL and tokens come from: arguments, environment, the stored login."""

import stat
from pathlib import Path

import pytest
from fastapi import FastAPI

from resentry_client import Client, ResentryClientError
from resentry_client._config import StoredLogin, load_login, login_path, save_login
from resentry_core._resentry import Resentry
from tests.client.conftest import BASE_URL, Api, close, make_client
from tests.server.conftest import ADMIN_PASSWORD


def test_no_url_anywhere_is_a_clear_error() -> None:
    """Without an argument, ``RESENTRY_URL`` or a stored login, the client says what to do."""
    with pytest.raises(ResentryClientError, match="no server URL: pass base_url="):
        Client()
    with pytest.raises(ResentryClientError, match="must start with http"):
        Client("127.0.0.1:8000")


def test_arguments_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``RESENTRY_URL``/``RESENTRY_TOKEN`` apply when no argument is given."""
    monkeypatch.setenv("RESENTRY_URL", "http://env.example:8000/errors/")
    monkeypatch.setenv("RESENTRY_TOKEN", "env-token")
    with Client() as client:
        assert (client.base_url, client.access_token) == (
            "http://env.example:8000/errors",
            "env-token",
        )
    with Client("http://arg.example", token="arg-token") as client:
        assert (client.base_url, client.access_token) == ("http://arg.example", "arg-token")


def test_stored_login_is_private_and_only_sent_to_its_server(isolated_config: Path) -> None:
    """The stored login is written 0600 in a 0700 directory; its tokens are used for its own
    server only."""
    login = StoredLogin(
        url="http://127.0.0.1:8000", username="admin", access_token="a", refresh_token="r"
    )
    path = save_login(login)
    assert path == isolated_config / "resentry" / "login.json" == login_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_login() == login
    with Client() as client:
        assert (client.base_url, client.access_token, client.refresh_token) == (
            "http://127.0.0.1:8000",
            "a",
            "r",
        )
    with Client("http://127.0.0.1:8000/") as client:
        assert client.access_token == "a"
    with Client("http://elsewhere.example") as client:
        assert client.access_token is None


def test_a_damaged_stored_login_is_a_clear_error(isolated_config: Path) -> None:
    """A stored login that is not one names the file instead of failing later."""
    path = isolated_config / "resentry" / "login.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(ResentryClientError, match=r"login\.json is not a stored login"):
        Client()


async def test_refreshed_tokens_are_written_back(
    app: FastAPI, core: Resentry, admin: object, kind: str
) -> None:
    """When the stored access token has expired, the client refreshes it and stores the new
    pair, so the stored login stays valid (refresh tokens may be single-use)."""
    tokens = await core.accounts.login("admin", ADMIN_PASSWORD)
    save_login(
        StoredLogin(
            url=BASE_URL,
            username="admin",
            access_token="expired",
            refresh_token=tokens.refresh_token,
        )
    )
    api = Api(make_client(kind, app))
    assert (await api(lambda c: c.me())).username == "admin"
    stored = load_login()
    assert stored is not None
    assert stored.access_token == api.client.access_token != "expired"
    assert stored.refresh_token == api.client.refresh_token
    api.client.forget_tokens()
    assert load_login() is None
    await close(api.client)
