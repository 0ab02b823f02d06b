"""Pulumi ComponentResources, one per monitoring concept."""
