"""What online services keep for the running app: the payment channel and the agencies' signer
of result documents, each a real local implementation behind its Protocol."""

from __future__ import annotations

from civicstack.config import Settings
from civicstack.kit.appservices import AppServices, ServiceKey
from civicstack.services import catalogue
from civicstack.services.payments import LocalTreasury, PaymentChannel
from civicstack.services.signing import ResultSigner, StoredAgencySigner

PAYMENTS = ServiceKey[PaymentChannel]("payments")
RESULT_SIGNER = ServiceKey[ResultSigner]("result_signer")


def treasury(settings: Settings) -> PaymentChannel:
    """The app's and the CLI's payment channel, over the same ledger."""
    return LocalTreasury(settings.data_dir / "treasury")


def treasury_of(services: AppServices) -> PaymentChannel:
    return treasury(services.settings)


def signer_of(services: AppServices) -> ResultSigner:
    """The agencies' signer, with the catalogue's agencies' key pairs read or made now, each in
    a transaction of its own: made first inside an approval's, the write would wait on SQLite
    for the approval's own lock."""
    signer = StoredAgencySigner(services.secrets)
    for agency in catalogue.AGENCIES:
        signer.agency_certificate(agency.code, agency.name)
    return signer
