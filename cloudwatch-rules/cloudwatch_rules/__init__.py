"""CloudWatch's own rules, as plain functions over plain data, shared by the policy pack and the
preflight's CloudWatch model: one composite-rule grammar, one Metrics Insights parser, one set of limits.

Pure Python with no dependencies: it is installed into the program's virtualenv and into the policy
pack's, and imports nothing of either.
"""
