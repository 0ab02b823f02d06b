"""Offline preview of a Pulumi program: mocks in preview fidelity, the policy pack, cost, render."""
