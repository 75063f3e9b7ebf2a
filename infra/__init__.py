"""The world around the strategy, locally: market data sources, the paper broker, DynamoDB Local.

Development tooling only: nothing here is packaged into the Lambda.
"""
