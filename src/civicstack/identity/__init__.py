"""Electronic identity accounts: one per citizen, the key to every online public service."""
