"""A failed AWS call of the account check as one line: service, operation, HTTP status and AWS error code.

botocore reports failures in three shapes: a ClientError (the service answered with an error it could
parse), a ResponseParserError whose text is the whole response body (an HTML page from a proxy, a
load balancer or an emulator: botocore treats only bodies starting with `<html>` as a generic error,
botocore/parsers.py `_is_generic_error_response`), and a BotoCoreError when no answer came at all
(EndpointConnectionError, ReadTimeoutError). `one_line_failures` turns each into a `CallFailed` on
the client, so no check has to know the shapes and no response body reaches a report.
"""

from __future__ import annotations

from typing import Any, Optional


class CallFailed(Exception):
    """One AWS call that failed. `status` is None when no HTTP response came; `code` is the AWS error
    code ("" when the response carried none), or botocore's exception name when no response came."""

    def __init__(self, service: str, operation: str, status: Optional[int], code: str) -> None:
        super().__init__(service, operation, status, code)
        self.service, self.operation, self.status, self.code = service, operation, status, code

    @property
    def denied(self) -> bool:
        return "AccessDenied" in self.code or "Unauthorized" in self.code

    def __str__(self) -> str:
        call = f"{self.service} {self.operation}"
        if self.status is None:
            return f"{call}: no HTTP response ({self.code})"
        return f"{call}: HTTP {self.status}" + (f" {self.code}" if self.code else "")


def one_line_failures(client: Any) -> Any:
    """Makes every failed call of `client` (paginated ones too) raise CallFailed, from botocore's error.

    botocore emits `after-call` with the parsed answer before it raises a ClientError for a status of
    300 or more, and `after-call-error` with the exception when no answer could be parsed or none came
    (botocore/client.py `_make_api_call`, `_make_request`); a handler that raises replaces the error.
    The status of an answer that could not be parsed is noted at `before-parse` and forgotten at
    `before-send`, once per attempt (the check calls one client at a time)."""
    service = client.meta.service_model.service_name
    last_status: list[Optional[int]] = [None]

    def forget(**_: Any) -> None:
        last_status[0] = None

    def note(response_dict: dict[str, Any], **_: Any) -> None:
        last_status[0] = response_dict.get("status_code")

    def answered(http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if http_response.status_code < 300:
            return
        code = context.get("error_code_override") or str(parsed.get("Error", {}).get("Code", ""))
        # A body botocore could not read as an AWS error gets the status as its code: say it once.
        raise CallFailed(service, model.name, http_response.status_code,
                         "" if code == str(http_response.status_code) else code)

    def unanswered(exception: Exception, event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]  # after-call-error.<service id>.<operation>
        if last_status[0] is None:
            raise CallFailed(service, operation, None, type(exception).__name__) from exception
        raise CallFailed(service, operation, last_status[0], "") from exception

    events = client.meta.events
    events.register("before-send", forget)
    events.register("before-parse", note)
    events.register_last("after-call", answered)
    events.register_last("after-call-error", unanswered)
    return client
