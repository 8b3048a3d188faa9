"""CivicStack: national digital identity and online public services."""

__version__ = "0.1.0"
