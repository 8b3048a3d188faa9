"""Online public services: the procedure catalogue, dossiers and their workflow."""
