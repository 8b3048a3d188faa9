"""Every table's model, so Alembic (env.py) and the tests see one complete metadata: kit's own
tables, then each domain's."""

from civicstack.biometrics import models as biometrics_models
from civicstack.exchange import models as exchange_models
from civicstack.identity import models as identity_models
from civicstack.kit import apikeys, audit, outbox, ratelimit, secrets, tally, websession
from civicstack.kit.db import Base
from civicstack.learning import models as learning_models
from civicstack.monitoring import models as monitoring_models
from civicstack.oidc import models as oidc_models
from civicstack.organisations import models as organisation_models
from civicstack.registry import models as registry_models
from civicstack.security import models as security_models
from civicstack.services import models as services_models
from civicstack.support import models as support_models
from civicstack.travel import models as travel_models
from civicstack.wallet import models as wallet_models

metadata = Base.metadata

__all__ = ["apikeys", "audit", "biometrics_models", "exchange_models", "identity_models",
           "learning_models", "metadata", "monitoring_models", "oidc_models",
           "organisation_models", "outbox", "ratelimit", "registry_models", "secrets",
           "security_models", "services_models", "support_models", "tally", "travel_models",
           "wallet_models", "websession"]
