"""`python -m preflight diff`: what a change does to the monitoring, in a reviewer's terms."""
