"""Government data exchange: member systems with their own keys, data-sharing agreements,
field-filtered signed answers, and a tamper-evident log of every request."""
