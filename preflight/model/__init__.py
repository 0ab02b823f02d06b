"""The one typed model of what a program run registered: every tool reads it, none re-reads raw resources."""
