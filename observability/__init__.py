"""Runtime library imported by HASIVU's Lambda functions (distribution `hasivu-observability`)."""

__version__ = "1.0.0"
