"""One wording for what an AWS call of a make target (pause, resume, subscribe) could not do.

botocore alone, so `make pause` still runs from the boto3-only `.venv-ops` in an emergency.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

AWS_ERRORS = (BotoCoreError, ClientError)


def aws_failure(exc: BotoCoreError | ClientError, where: str, config_env: str, doing: str) -> str:
    """The one `error:` line's text for `exc`, raised while trying to `doing` ("set /x/y") for
    `where` (the stack and region), naming what to fix where the cause is the user's set-up."""
    if isinstance(exc, NoCredentialsError):
        return f"no AWS credentials for {where}: run `aws configure` or set AWS_PROFILE"
    if isinstance(exc, NoRegionError):
        return (f"no region for {where}: add region to [{config_env}.global.parameters] in "
                "samconfig.toml")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return (f"AWS refused to {doing} in {where}: {error.get('Code')}: "
                f"{error.get('Message')}")
    return f"cannot {doing} in {where}: {exc}"
