"""The Lambda: one mean-reversion morning per invocation (entry point `handler.app.lambda_handler`).

Ships with `strategy` only; never imports `infra` or `backtest`. Local stand-ins (paper broker,
DynamoDB Local) are wired in through the same environment variables AWS uses.
"""
