"""The wallet's queries."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from civicstack.wallet.models import (
    Credential,
    CredentialOffer,
    DocumentType,
    HolderKey,
    Issuer,
    IssuerGrant,
    MemberAuthorisation,
    Nonce,
    PresentationRequest,
    SeenPresentation,
    StatusList,
)


def issuers(session: Session) -> list[Issuer]:
    return list(session.scalars(select(Issuer).order_by(Issuer.id)))


def issuer_by_slug(session: Session, slug: str) -> Issuer | None:
    return session.scalars(select(Issuer).where(Issuer.slug == slug)).one_or_none()


def document_types(session: Session) -> list[DocumentType]:
    return list(session.scalars(select(DocumentType).order_by(DocumentType.integrated_on,
                                                              DocumentType.id)))


def document_type(session: Session, code: str) -> DocumentType | None:
    return session.scalars(select(DocumentType).where(DocumentType.code == code)).one_or_none()


def credential(session: Session, public_id: str, *, lock: bool = False) -> Credential | None:
    query = select(Credential).where(Credential.public_id == public_id)
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def credentials_of(session: Session, subject_id: str, *,
                   valid_only: bool = False) -> list[Credential]:
    query = select(Credential).where(Credential.subject_id == subject_id)
    if valid_only:
        query = query.where(Credential.status == "valid")
    return list(session.scalars(query.order_by(Credential.issued_at.desc(), Credential.id)))


def copies_of(session: Session, credential_id: int) -> list[Credential]:
    return list(session.scalars(select(Credential).where(Credential.copy_of_id == credential_id)
                                .with_for_update()))


def portal_copies(session: Session, subject_id: str, document_type_id: int) -> list[Credential]:
    return list(session.scalars(select(Credential).where(
        Credential.subject_id == subject_id, Credential.document_type_id == document_type_id,
        Credential.holder == "portal", Credential.status != "revoked").with_for_update()))


def open_status_list(session: Session, issuer_id: int) -> StatusList | None:
    return session.scalars(select(StatusList).where(StatusList.issuer_id == issuer_id)
                           .order_by(StatusList.number.desc()).limit(1)).one_or_none()


def status_list(session: Session, issuer_id: int, number: int) -> StatusList | None:
    return session.scalars(select(StatusList).where(StatusList.issuer_id == issuer_id,
                                                    StatusList.number == number)).one_or_none()


def status_lists(session: Session) -> list[tuple[StatusList, str]]:
    rows = session.execute(select(StatusList, Issuer.slug)
                           .join(Issuer, Issuer.id == StatusList.issuer_id)
                           .order_by(StatusList.id))
    return [(row[0], row[1]) for row in rows]


def used_indices(session: Session, status_list_id: int) -> int:
    return session.scalar(select(func.count()).where(
        Credential.status_list_id == status_list_id)) or 0


def index_taken(session: Session, status_list_id: int, index: int) -> bool:
    return session.scalar(select(Credential.id).where(
        Credential.status_list_id == status_list_id,
        Credential.status_index == index)) is not None


def flagged_entries(session: Session, status_list_id: int) -> dict[int, str]:
    """Index -> status for every credential of the list that is not valid."""
    rows = session.execute(select(Credential.status_index, Credential.status).where(
        Credential.status_list_id == status_list_id, Credential.status != "valid"))
    return dict(rows.all())


def status_at(session: Session, status_list_id: int, index: int) -> str | None:
    return session.scalar(select(Credential.status).where(
        Credential.status_list_id == status_list_id, Credential.status_index == index))


def forget_status_token(session: Session, status_list_ids: Collection[int]) -> None:
    if status_list_ids:
        session.execute(update(StatusList).where(StatusList.id.in_(set(status_list_ids)))
                        .values(token=None, token_expires_at=None))


def holder_key(session: Session, subject_id: str) -> HolderKey | None:
    return session.scalars(select(HolderKey).where(HolderKey.subject_id == subject_id)
                           ).one_or_none()


def grant(session: Session, issuer_id: int, grantee: str) -> IssuerGrant | None:
    return session.scalars(select(IssuerGrant).where(
        IssuerGrant.issuer_id == issuer_id, IssuerGrant.grantee == grantee)).one_or_none()


def issued_counts(session: Session) -> dict[int, int]:
    """Document type id -> how many credentials it has issued (all holders, all statuses)."""
    rows = session.execute(select(Credential.document_type_id, func.count())
                           .group_by(Credential.document_type_id))
    return dict(rows.all())


# --- OpenID4VP ------------------------------------------------------------------------------

def presentation_request(session: Session, public_id: str, *,
                         lock: bool = False) -> PresentationRequest | None:
    query = select(PresentationRequest).where(PresentationRequest.public_id == public_id)
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def credential_at(session: Session, status_list_id: int, index: int) -> Credential | None:
    return session.scalars(select(Credential).where(
        Credential.status_list_id == status_list_id,
        Credential.status_index == index)).one_or_none()


def presentation_seen(session: Session, sd_hash: str) -> bool:
    return session.scalar(select(SeenPresentation.id).where(
        SeenPresentation.sd_hash == sd_hash)) is not None


def forget_seen_presentations(session: Session, before: datetime) -> None:
    session.execute(delete(SeenPresentation).where(SeenPresentation.forget_after < before))


# --- OpenID4VCI ------------------------------------------------------------------------------

def offer_by_code(session: Session, code_digest: str) -> CredentialOffer | None:
    """Locked: two token requests with one code are served one after the other."""
    return session.scalars(select(CredentialOffer).where(
        CredentialOffer.code_digest == code_digest).with_for_update()).one_or_none()


def offer_by_access_token(session: Session, token_digest: str) -> CredentialOffer | None:
    return session.scalars(select(CredentialOffer).where(
        CredentialOffer.access_token_digest == token_digest).with_for_update()).one_or_none()


def nonce(session: Session, purpose: str, value_digest: str) -> Nonce | None:
    return session.scalars(select(Nonce).where(
        Nonce.purpose == purpose, Nonce.value_digest == value_digest).with_for_update()
    ).one_or_none()


def forget_nonces(session: Session, purpose: str, expired_before: datetime) -> None:
    session.execute(delete(Nonce).where(Nonce.purpose == purpose,
                                        Nonce.expires_at < expired_before))


def attested_members(session: Session, member_ids: list[int]) -> set[int]:
    """Of these memberships, those an authorisation credential not revoked already attests."""
    return set(session.scalars(
        select(MemberAuthorisation.member_id).join(
            Credential, Credential.id == MemberAuthorisation.credential_id)
        .where(MemberAuthorisation.member_id.in_(member_ids), Credential.status != "revoked")))


def authorisations(session: Session, tax_code: str, member_id: int | None) -> list[Credential]:
    """The authorisation credentials not revoked that attest a membership of the organisation
    (one membership's when `member_id` is named), locked for the change."""
    query = select(Credential).join(
        MemberAuthorisation, MemberAuthorisation.credential_id == Credential.id).where(
        MemberAuthorisation.tax_code == tax_code, Credential.status != "revoked")
    if member_id is not None:
        query = query.where(MemberAuthorisation.member_id == member_id)
    return list(session.scalars(query.with_for_update()))
