"""Document wallet: government documents as SD-JWT verifiable credentials."""
