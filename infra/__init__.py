"""The world around the strategy, locally: the paper broker, DynamoDB Local, local runs,
chaos, the local handler command (`infra.handler_cli`), the artifact test.

Development tooling only: nothing here is packaged into the Lambda.
"""
