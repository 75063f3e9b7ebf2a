"""Alpaca-shaped API errors: an HTTP status plus the JSON body {"code", "message"} Alpaca sends,
so a client's error handling is exercised exactly as against the real service."""

from __future__ import annotations


class BrokerError(Exception):
    """A refused request; `status` is the HTTP status, `code`/`message` the JSON body."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict:
        return {"code": self.code, "message": self.message}


def unauthorized() -> BrokerError:
    return BrokerError(401, 40110000, "request is not authorized")


def not_found(what: str) -> BrokerError:
    return BrokerError(404, 40410000, f"{what} not found")


def unprocessable(message: str) -> BrokerError:
    return BrokerError(422, 40010001, message)


def bad_request(message: str) -> BrokerError:
    return BrokerError(400, 40010001, message)


def forbidden(message: str) -> BrokerError:
    return BrokerError(403, 40310000, message)


def rate_limited() -> BrokerError:
    return BrokerError(429, 42910000, "rate limit exceeded")
