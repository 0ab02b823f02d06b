"""`python -m preflight preview`: the offline `pulumi preview`, with the policy pack hosted as the CLI
hosts it, the alarm coverage table, the monthly cost and the SMS advisory."""
