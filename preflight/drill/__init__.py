"""`python -m preflight drill`: incident drills, the stack's alarms played through the CloudWatch model
with the platform emulator's traffic and faults, and a verdict per expectation."""
