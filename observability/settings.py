"""Runtime settings of the library, read from the Lambda environment once."""

from __future__ import annotations

import dataclasses
import os

from observability.catalogue import BUSINESS_NAMESPACE, HEALTH_NAMESPACE


@dataclasses.dataclass(frozen=True)
class RuntimeSettings:
    environment: str
    service: str
    business_namespace: str
    health_namespace: str

    @classmethod
    def from_env(cls) -> RuntimeSettings:
        return cls(
            environment=os.getenv("HASIVU_ENVIRONMENT", "production"),
            service=os.getenv("POWERTOOLS_SERVICE_NAME", "hasivu"),
            business_namespace=os.getenv("HASIVU_BUSINESS_NAMESPACE", BUSINESS_NAMESPACE),
            health_namespace=os.getenv("HASIVU_HEALTH_NAMESPACE", HEALTH_NAMESPACE),
        )
