"""The alarm catalogue: per-service spec builders, one shared factory, composites."""
