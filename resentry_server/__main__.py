"""``python -m resentry_server``: the ``resentry`` CLI; with no command (or only options), serve.

python -m resentry_server                      # same as: resentry serve
python -m resentry_server --port 9000          # same as: resentry serve --port 9000
python -m resentry_server add-user admin --admin
"""

import sys

from resentry_server._cli import main


def _argv(args: list[str]) -> list[str]:
    if not args or (args[0].startswith("-") and args[0] not in ("-h", "--help")):
        return ["serve", *args]
    return args


if __name__ == "__main__":  # uvicorn's worker processes import this module as __mp_main__
    sys.exit(main(_argv(sys.argv[1:])))
