"""hasivu-monitoring: load the stack config, build the monitoring, export its outputs."""

import pulumi

from components.collector import relax_for_large_graphs
from components.facade import build_monitoring, export_outputs
from stackconfig import ConfigError, load_settings
from stackconfig.discovery import account_functions

relax_for_large_graphs()

try:
    settings = load_settings(discover=account_functions)
except ConfigError as error:
    # RunError makes Pulumi print the one-line message without a Python traceback.
    raise pulumi.RunError(str(error)) from None

export_outputs(build_monitoring(settings))
