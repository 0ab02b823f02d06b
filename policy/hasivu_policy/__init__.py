"""HASIVU monitoring policies: importable by the pack, the preflight and the tests."""
