"""National population register: administrative units, persons, households, civil status."""
