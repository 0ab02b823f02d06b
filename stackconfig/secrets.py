"""Secret config values: required to be Pulumi secrets, checked by form when readable."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Optional
from urllib.parse import urlparse

import pulumi
from pulumi.runtime.config import is_config_secret

from stackconfig.errors import PROJECT, ConfigError

# What a secret config value reads as where it cannot be decrypted (the offline preflight
# has no access to the stack's secrets provider). It stands for "set, encrypted, unreadable here".
OPAQUE_SECRET = "[secret]"  # noqa: S105 - a placeholder, not a credential

WEBHOOK_PATTERN = re.compile(
    r"https://(hooks\.slack\.com/|events\.pagerduty\.com/|[a-z0-9.-]*webhook[a-z0-9.-]*\.)", re.I
)


def _https_on(host_suffix: str, example: str) -> Callable[[str], Optional[str]]:
    def check(url: str) -> Optional[str]:
        parsed = urlparse(url)
        host = parsed.hostname or ""
        if parsed.scheme != "https" or not (host == host_suffix or host.endswith("." + host_suffix)):
            return f"an HTTPS URL on {host_suffix}, like {example}"
        return None

    return check


SECRET_FORMS: dict[str, Callable[[str], Optional[str]]] = {
    "pagerdutyEndpoint": _https_on("pagerduty.com", "https://events.pagerduty.com/integration/<key>/enqueue"),
    "slackWebhookUrl": _https_on("slack.com", "https://hooks.slack.com/services/<...>"),
}


# What each secret is for: shown in the command that sets it.
SECRET_VALUES = {
    "pagerdutyEndpoint": "PagerDuty events integration URL",
    "slackWebhookUrl": "Slack incoming webhook URL",
}


def set_secret_command(key: str) -> str:
    """The command that sets a secret; it reads the value from stdin, so it stays out of the process list."""
    return f"pulumi config set --secret {key}  (reads the {SECRET_VALUES.get(key, 'value')} from stdin)"


def required_secrets(alerting: Any) -> list[str]:
    """The secrets a stack's `alerting` section needs: PagerDuty for `pagerduty: true`, the Slack
    webhook for `slack: webhook` (reads the raw section: it runs before validation, in the preflight too)."""
    tiers = [t for t in (alerting or {}).values() if isinstance(t, dict)] if isinstance(alerting, dict) else []
    needed = []
    if any(t.get("pagerduty") is True for t in tiers):
        needed.append("pagerdutyEndpoint")
    if any(t.get("slack") == "webhook" for t in tiers):
        needed.append("slackWebhookUrl")
    return needed


def read_secret(config: pulumi.Config, key: str) -> Optional[pulumi.Output[str]]:
    """The secret `key` as a secret Output, or None when unset; refuses plaintext."""
    value = config.get(key)
    if value is None:
        return None
    if not is_config_secret(f"{PROJECT}:{key}"):
        raise ConfigError(
            key,
            "<plaintext value, not shown>",
            f"a secret: set it with `{set_secret_command(key)}`",
        )
    if value != OPAQUE_SECRET:
        problem = SECRET_FORMS[key](value)
        if problem:
            raise ConfigError(key, "<secret value, not shown>", problem)
    return pulumi.Output.secret(value)


HIDDEN_WEBHOOK = "<webhook URL in plaintext, not shown>"


def hide_plaintext_webhooks(value: Any, key: str) -> tuple[Any, list[ConfigError]]:
    """A webhook URL anywhere in structured plaintext config is a leak: `value` with each one
    replaced by a placeholder (so no later message can show it), and an error naming where each was."""
    if isinstance(value, dict):
        hidden = {k: hide_plaintext_webhooks(v, f"{key}.{k}") for k, v in value.items()}
        return {k: v for k, (v, _) in hidden.items()}, [e for _, errors in hidden.values() for e in errors]
    if isinstance(value, list):
        items = [hide_plaintext_webhooks(v, f"{key}[{i}]") for i, v in enumerate(value)]
        return [v for v, _ in items], [e for _, errors in items for e in errors]
    if isinstance(value, str) and WEBHOOK_PATTERN.match(value):
        return HIDDEN_WEBHOOK, [ConfigError(
            key,
            HIDDEN_WEBHOOK,
            "no webhook URL in plaintext config: store it with "
            "`pulumi config set --secret slackWebhookUrl|pagerdutyEndpoint ...`",
        )]
    return value, []
