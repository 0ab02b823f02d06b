"""The seed's five CloudWatch dashboards, built from the same inventory and alarm specs as the alarms."""
