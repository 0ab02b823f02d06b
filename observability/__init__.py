"""Runtime library imported by HASIVU's Lambda functions."""
