"""`python -m preflight account`: what only the live account can tell, before and after `pulumi up`."""

from preflight.account.check import check_account
from preflight.account.findings import AccountReport, Finding, Level
from preflight.account.session import Account, AccountError, connect

__all__ = ["Account", "AccountError", "AccountReport", "Finding", "Level", "check_account", "connect"]
