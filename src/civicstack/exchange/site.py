"""What the exchange keeps for the running app: its answer-signing keys."""

from __future__ import annotations

from civicstack.kit.appservices import ServiceKey
from civicstack.kit.keys import KeyRing

EXCHANGE_KEYS = ServiceKey[KeyRing]("exchange_keys")
