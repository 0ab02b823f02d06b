"""The HASIVU platform emulator that feeds drills: traffic profiles over the school day, the
functions, endpoints, Razorpay, RFID readers and the health monitor's probes, and faults."""
