"""`python -m preflight maintenance`: ad-hoc maintenance windows as alarm mute rules on the stack's pagers."""
