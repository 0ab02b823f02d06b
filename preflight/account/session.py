"""The caller's account, read-only: credentials, identity, clients, and the invokes answered from it."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Optional

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from preflight.account.calls import CallFailed, one_line_failures
from preflight.program.engine import InvokeHandler
from preflight.program.stack_files import StackFiles

# Standard-mode retries (backoff on throttling and 5xx), few attempts and short timeouts: a report
# that waits minutes on an unreachable endpoint helps nobody.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=15)
# Cost Explorer has one endpoint, in us-east-1, whatever the stack's region.
GLOBAL_SERVICES = {"ce": "us-east-1"}


class AccountError(Exception):
    """The account cannot be reached at all (no credentials, expired token): one line, exit 2."""


@dataclasses.dataclass
class Account:
    session: boto3.Session
    region: str
    account_id: str
    caller_arn: str
    user_id: str
    _clients: dict[str, BaseClient] = dataclasses.field(default_factory=dict, repr=False)

    @property
    def partition(self) -> str:
        return self.caller_arn.split(":")[1]

    def topic_arn(self, name: str) -> str:
        """The ARN of this account's SNS topic `name` in the stack's region."""
        return f"arn:{self.partition}:sns:{self.region}:{self.account_id}:{name}"

    def client(self, service: str) -> Any:
        if service not in self._clients:
            region = GLOBAL_SERVICES.get(service, self.region)
            self._clients[service] = one_line_failures(
                self.session.client(service, region_name=region, config=CLIENT_CONFIG))
        return self._clients[service]

    @functools.cached_property
    def functions(self) -> list[dict[str, Any]]:
        """Every Lambda function in the stack's region (ListFunctions, all pages)."""
        pages = self.client("lambda").get_paginator("list_functions").paginate()
        return [fn for page in pages for fn in page["Functions"]]

    @functools.cached_property
    def function_names(self) -> set[str]:
        return {fn["FunctionName"] for fn in self.functions}

    @functools.cached_property
    def topic_arns(self) -> set[str]:
        """Every SNS topic in the stack's region (ListTopics, all pages)."""
        pages = self.client("sns").get_paginator("list_topics").paginate()
        return {t["TopicArn"] for page in pages for t in page["Topics"]}

    def invokes(self) -> dict[str, InvokeHandler]:
        """The invokes the offline preflight answers with placeholders, answered from this account."""
        return {
            "aws:index/getCallerIdentity:getCallerIdentity": lambda _: {
                "accountId": self.account_id, "arn": self.caller_arn, "id": self.account_id, "userId": self.user_id,
            },
            "aws:lambda/getFunctions:getFunctions": lambda _: {
                "functionNames": [fn["FunctionName"] for fn in self.functions],
                "functionArns": [fn["FunctionArn"] for fn in self.functions],
                "id": self.region,
            },
        }


def connect(files: StackFiles, session: Optional[boto3.Session] = None) -> Account:
    """Who the caller is (sts GetCallerIdentity); AccountError when that cannot be answered."""
    try:
        session = session or boto3.Session()
        region = files.config.get("aws:region") or session.region_name
        if not region:
            raise AccountError("AWS account: no region: set aws:region in the stack file or AWS_REGION")
        if session.get_credentials() is None:
            raise AccountError("AWS account: no credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
                               "AWS_SECRET_ACCESS_KEY, or run `aws sso login`)")
        sts = one_line_failures(session.client("sts", region_name=region, config=CLIENT_CONFIG))
        identity = sts.get_caller_identity()
    except (BotoCoreError, CallFailed) as error:
        raise AccountError(f"AWS account: cannot reach it: {error}") from None
    return Account(session, region, identity["Account"], identity["Arn"], identity["UserId"])
