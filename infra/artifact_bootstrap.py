"""The Lambda runtime's side of `make artifact-test`, run as a script by python3.13 in isolated
mode without `site` (`-I -S -B`): nothing of this machine's Python installs, of the environment
or of the repository is on its path. It puts there what Lambda does and nothing more:

    python3.13 -I -S -B infra/artifact_bootstrap.py TASK RUNTIME TOOLS [infra.handler_cli options]

TASK is the built artifact (Lambda's /var/task), RUNTIME the SDK the runtime ships (Lambda's
/var/lang/lib/python3.13/site-packages), after it as in Lambda. The time zone search path is
emptied as well: the Lambda image has no /usr/share/zoneinfo, so America/New_York must come
from the artifact's tzdata. Then it imports the function's module, as Lambda's bootstrap does
first, and reports on stderr (one JSON line, `infra.artifact_test` reads it) where the handler,
the SDK (boto3, botocore), urllib3 and tzdata were found. Only then does TOOLS (a folder holding
`infra` alone) join the path, for `infra.handler_cli`, the command line
every local invocation goes through, whose waiter moves the paper broker's clock.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import platform
import sys
import zoneinfo

HANDLER_MODULE = "handler.app"  # template.yaml: Handler: handler.app.lambda_handler
REPORTED = (HANDLER_MODULE, "boto3", "botocore", "urllib3", "tzdata")
RUNTIME_MESSAGE = "artifact runtime"


def _origin(module: str) -> str | None:
    spec = importlib.util.find_spec(module)
    return spec.origin if spec is not None else None


def main(argv: list[str]) -> int:
    task, runtime, tools, *options = argv
    sys.path[:0] = [task, runtime]
    zoneinfo.reset_tzpath(to=())
    importlib.import_module(HANDLER_MODULE)
    boto3 = importlib.import_module("boto3")
    line = {
        "message": RUNTIME_MESSAGE,
        "python": platform.python_version(),
        "boto3": boto3.__version__,
        "found": {module: _origin(module) for module in REPORTED},
    }
    print(json.dumps(line), file=sys.stderr, flush=True)
    sys.path.append(tools)
    from infra.handler_cli import main as handler_cli

    return handler_cli(options)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
