"""The monthly SLA report: per SLO, attainment, error budget spent and bad windows over a calendar month."""
