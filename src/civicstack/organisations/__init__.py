"""Organisation eID accounts: businesses registered by their legal representative."""
