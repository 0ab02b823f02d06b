"""`python -m preflight history`: a past window of the stack's metrics replayed through the CloudWatch model
with the working tree's alarms (docs/history.md)."""
