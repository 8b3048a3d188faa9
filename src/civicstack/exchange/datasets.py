"""What the exchange shares and who provides it: the population register's datasets (read live
through the register's and the wallet's services), the wallet push operation, and datasets
members publish into the exchange's own store (uploaded as CSV or JSON records)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from civicstack.exchange import repository
from civicstack.exchange.models import ExchangeMember, PublishedDataset, PublishedRecord
from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.errors import Conflict, Forbidden, Invalid, NotFound
from civicstack.registry import service as registry
from civicstack.wallet import service as wallet

POPULATION_REGISTER = "c06-population"  # the system member seeded by migration 0019
WALLET_PUSH = "wallet_push"  # an operation, not a read: its "fields" are document types
CODE = re.compile(r"^[a-z][a-z0-9_]{2,39}$")
FIELD = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
RECORD_COLUMNS = ("personal_id_number", "updated_at")  # every record has them; not fields
MOST_FIELDS = 30
MOST_RECORDS = 100_000  # per upload; a larger dataset is uploaded by a job, not a request


@dataclass(frozen=True)
class Dataset:
    code: str
    provider: str  # the providing member's code
    fields: tuple[str, ...]
    many: bool = False  # answers a list of records rather than one
    published_id: int | None = None  # its row in the exchange's store; None for the register's


REGISTER_DATASETS = {d.code: d for d in (
    Dataset("verify_person", POPULATION_REGISTER,
            ("full_name", "date_of_birth", "sex", "status")),
    Dataset("residence", POPULATION_REGISTER,
            ("permanent_province_code", "permanent_ward_code", "permanent_address_line",
             "temporary_ward_code", "temporary_address_line")),
    Dataset("household", POPULATION_REGISTER,
            ("household_code", "relation_to_head", "members")),
    Dataset("document_status", POPULATION_REGISTER,
            ("document_type", "issuer", "status", "expires_at"), many=True),
)}


def now() -> datetime:
    return datetime.now(UTC)


def find(session: Session, code: str) -> Dataset | None:
    """The dataset (or the wallet push operation) by its code, wherever it lives."""
    if code in REGISTER_DATASETS:
        return REGISTER_DATASETS[code]
    if code == WALLET_PUSH:
        return Dataset(WALLET_PUSH, POPULATION_REGISTER,
                       tuple(d.code for d in wallet.document_types(session)
                             if d.subject_kind == "person" and d.source == "agency"))
    published = repository.dataset_by_code(session, code)
    if published is None:
        return None
    provider = session.get(ExchangeMember, published.provider_id)
    assert provider is not None  # a foreign key
    return Dataset(published.code, provider.code, tuple(published.fields), True, published.id)


def all_codes(session: Session) -> list[str]:
    return [*REGISTER_DATASETS, WALLET_PUSH, *repository.published_codes(session)]


# --- reading one person's records ---------------------------------------------------------

def records_of(session: Session, actor: Actor, dataset: Dataset, personal_id_number: str,
               purpose: str) -> list[dict[str, Any]]:
    """Every field of the person's records in the dataset (none: an empty list); the agreement
    then keeps its own fields. Each read is audited under the person by its reader."""
    if dataset.published_id is None:
        try:
            return REGISTER_READERS[dataset.code](session, actor, personal_id_number, purpose)
        except NotFound:
            return []
    found = repository.records_of(session, dataset.published_id, personal_id_number)
    if found:
        audit.record(session, actor, "exchange.record.read", subject_type="person",
                     subject_id=personal_id_number, purpose=" ".join(purpose.split()),
                     detail={"dataset": dataset.code, "provider": dataset.provider})
    return [{**r.values, "updated_at": r.updated_at.isoformat()} for r in found]


def _person(session: Session, actor: Actor, personal_id_number: str,
            purpose: str) -> list[dict[str, Any]]:
    person = registry.get_person(session, actor, personal_id_number, purpose)
    return [{name: _plain(getattr(person, name)) for name in
             (*REGISTER_DATASETS["verify_person"].fields, *REGISTER_DATASETS["residence"].fields)}]


def _household(session: Session, actor: Actor, personal_id_number: str,
               purpose: str) -> list[dict[str, Any]]:
    found = registry.household_of_person(session, actor, personal_id_number, purpose)
    if found is None:
        return []
    return [{"household_code": found.household_code, "relation_to_head": found.relation_to_head,
             "members": [{"full_name": m.full_name, "relation_to_head": m.relation_to_head}
                         for m in found.members]}]


def _document_status(session: Session, actor: Actor, personal_id_number: str,
                     purpose: str) -> list[dict[str, Any]]:
    registry.get_person(session, actor, personal_id_number, purpose)  # a registered person
    return [{"document_type": d.document_type, "issuer": d.issuer, "status": d.status,
             "expires_at": d.expires_at.isoformat()}
            for d in wallet.document_statuses(session, actor, personal_id_number, purpose)]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


REGISTER_READERS: dict[str, Callable[[Session, Actor, str, str], list[dict[str, Any]]]] = {
    "verify_person": _person, "residence": _person, "household": _household,
    "document_status": _document_status}


# --- publishing -----------------------------------------------------------------------------

def require_acting_for(actor: Actor, member: ExchangeMember) -> None:
    """A member acts for itself (its own signed assertion); an admin may act for any member."""
    if actor.may(Permission.EXCHANGE_MANAGE) or \
            (actor.kind == "exchange" and actor.name == member.code):
        return
    raise Forbidden(f"{actor} may not act for exchange member {member.code}")


@dataclass(frozen=True)
class NewDataset:
    provider: str
    code: str
    title: str
    fields: tuple[str, ...]
    required: tuple[str, ...]


def publish(session: Session, actor: Actor, new: NewDataset) -> PublishedDataset:
    provider = repository.member_by_code(session, new.provider)
    if provider is None:
        raise NotFound(f"no exchange member '{new.provider}'")
    require_acting_for(actor, provider)
    _check_new(session, new)
    dataset = PublishedDataset(code=new.code, provider_id=provider.id, title=new.title.strip(),
                               fields=list(new.fields), required=list(new.required),
                               created_at=now())
    session.add(dataset)
    session.flush()
    audit.record(session, actor, "exchange.dataset.publish", subject_type="exchange_member",
                 subject_id=provider.code, purpose="publish a dataset through the exchange",
                 detail={"dataset": new.code, "fields": list(new.fields)})
    return dataset


def _check_new(session: Session, new: NewDataset) -> None:
    if not CODE.match(new.code):
        raise Invalid("code", "a dataset code is 3 to 40 lower-case letters, digits and "
                              "underscores, starting with a letter")
    if not new.fields or len(new.fields) > MOST_FIELDS or len(set(new.fields)) < len(new.fields) \
            or not all(FIELD.match(f) and f not in RECORD_COLUMNS for f in new.fields):
        raise Invalid("fields", "name up to 30 distinct fields in lower-case letters, digits "
                                "and underscores (not personal_id_number or updated_at)")
    if set(new.required) - set(new.fields):
        raise Invalid("required", "required fields must be among the dataset's fields")
    if len(new.title.strip()) < 3:
        raise Invalid("title", "give the dataset a title")
    if new.code in REGISTER_DATASETS or new.code == WALLET_PUSH or \
            repository.dataset_by_code(session, new.code):
        raise Conflict(f"a dataset '{new.code}' exists")


def upload(session: Session, actor: Actor, provider_code: str, code: str,
           rows: list[dict[str, Any]]) -> int:
    """Replace the dataset's records with these (a full snapshot from the provider's system).
    Each row holds personal_id_number, optionally updated_at (ISO date or time; now when
    absent), and some of the dataset's fields. One bad row refuses the whole upload."""
    dataset = repository.dataset_by_code(session, code)
    provider = repository.member_by_code(session, provider_code)
    if dataset is None or provider is None or dataset.provider_id != provider.id:
        raise NotFound(f"{provider_code} publishes no dataset '{code}'")
    require_acting_for(actor, provider)
    if len(rows) > MOST_RECORDS:
        raise Invalid("records", "upload at most 100,000 records at a time")
    moment = now()
    records = [_record(dataset, number, row, moment) for number, row in enumerate(rows, 1)]
    repository.delete_records(session, dataset.id)
    session.add_all(records)
    dataset.uploaded_at = moment
    session.flush()
    audit.record(session, actor, "exchange.dataset.upload", subject_type="exchange_member",
                 subject_id=provider.code, purpose="publish a dataset through the exchange",
                 detail={"dataset": code, "records": len(records)})
    return len(records)


def _record(dataset: PublishedDataset, number: int, row: dict[str, Any],
            moment: datetime) -> PublishedRecord:
    subject = str(row.get("personal_id_number") or "").strip()
    if not subject or len(subject) > 20:
        raise Invalid("records", f"record {number}: personal_id_number is missing or too long")
    unknown = set(row) - set(dataset.fields) - set(RECORD_COLUMNS)
    if unknown:
        raise Invalid("records", f"record {number}: {dataset.code} has no field "
                                 f"{', '.join(sorted(unknown))}")
    values = {name: row[name] for name in dataset.fields if row.get(name) not in (None, "")}
    if not all(isinstance(v, str | int | float | bool) for v in values.values()):
        raise Invalid("records", f"record {number}: values must be text, numbers or booleans")
    return PublishedRecord(dataset_id=dataset.id, subject_id=subject, values=values,
                           updated_at=_updated_at(number, row.get("updated_at"), moment))


def _updated_at(number: int, given: Any, moment: datetime) -> datetime:
    if given in (None, ""):
        return moment
    try:
        found = datetime.fromisoformat(str(given))
    except ValueError:
        raise Invalid("records", f"record {number}: updated_at is not an ISO date") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def rows_from_csv(text: str) -> list[dict[str, Any]]:
    """CSV with a header row (a spreadsheet's UTF-8 byte-order mark is ignored)."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    if not reader.fieldnames or "personal_id_number" not in reader.fieldnames:
        raise Invalid("records", "the CSV needs a header row with personal_id_number")
    return [{k: v for k, v in row.items() if k is not None} for row in reader]


def rows_from_json(data: bytes | str) -> list[dict[str, Any]]:
    """JSON `{"records": [{...}, ...]}`."""
    try:
        records = json.loads(data)["records"]
    except (ValueError, KeyError, TypeError):
        records = None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise Invalid("records", "send the records as JSON {\"records\": [...]} or as CSV")
    return records
