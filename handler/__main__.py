"""`python -m handler --event FILE`: one local invocation, kept under this name for the README and
the tests. A local tool only: its code is `infra.handler_cli`, and the build leaves this file out
of the shipped function (which never imports `infra`)."""

import sys

from infra.handler_cli import main

if __name__ == "__main__":
    sys.exit(main())
