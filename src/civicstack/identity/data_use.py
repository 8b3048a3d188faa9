"""The account page's "who used my data" lets a citizen report a use they do not recognise.
Those reports are support tickets, owned by the support domain, which provides them here at
install time: identity shows and takes them without importing support."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from sqlalchemy.orm import Session

from civicstack.kit.appservices import ServiceKey


class ReportView(Protocol):
    @property
    def ticket_id(self) -> int: ...
    @property
    def checked(self) -> bool: ...  # an auditor has answered
    @property
    def finding(self) -> str: ...  # the auditors' last answer to the citizen


class DataUseReports(Protocol):
    def reports_of(self, session: Session, personal_id_number: str,
                   ) -> Mapping[int, ReportView]:
        """This citizen's reports, by the audit entry each one flags."""

    def report(self, session: Session, personal_id_number: str, seq: int, note: str) -> object:
        """Flag entry `seq` of the citizen's own trail; refusals are domain errors."""


DATA_USE_REPORTS = ServiceKey[DataUseReports]("data_use_reports")
