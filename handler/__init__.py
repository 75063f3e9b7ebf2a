"""The Lambda: one mean-reversion morning per invocation (entry point `handler.app.lambda_handler`).

Ships with `strategy` only; never imports `infra` or `backtest`. Local stand-ins (paper broker,
DynamoDB Local, the SSM/SNS stand-in of the kill switch and the daily summary) are wired in
through the same environment variables AWS uses.
"""
