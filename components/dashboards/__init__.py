"""The five CloudWatch dashboards (executive, operations, Lambda, database, business), built from
the same inventory and alarm specs as the alarms."""
