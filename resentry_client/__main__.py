"""``python -m resentry_client``: the ``resentry-client`` CLI."""

from resentry_client._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
