"""The one error shape of the control API: ``{"error": {"status": 400, "message": "..."}}``.

Control endpoints are called by test suites; a precise message ("faults: 'count' must be a
positive integer") saves the user a trip to the docs, so every rejection says what was wrong.
"""

from __future__ import annotations

from starlette.responses import JSONResponse


class ControlError(Exception):
    """Bad control input (400), an unknown account (404) or a conflict (409)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> JSONResponse:
        return error_response(self.status, self.message)


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)


def bad_input(message: str) -> ControlError:
    return ControlError(400, message)
