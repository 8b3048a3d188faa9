"""Imports every domain's models so Alembic and the tests see one complete metadata."""

from civicstack.kit import apikeys, audit
from civicstack.kit.db import Base
from civicstack.registry import models as registry_models

metadata = Base.metadata

__all__ = ["apikeys", "audit", "metadata", "registry_models"]
