"""The wallet's rules: the catalogue, issuing documents as SD-JWT VCs, their status (revoke,
suspend, reinstate, lost card, death), status lists, the citizen's cards and in-person QR
presentations, and the monthly list of integrated documents."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from civicstack.identity import service as identity
from civicstack.identity.models import CitizenAccount, ClosureReason
from civicstack.identity.service import AccountClosed
from civicstack.kit import audit
from civicstack.kit.audit import SYSTEM, Actor
from civicstack.kit.authz import Permission
from civicstack.kit.db import as_utc
from civicstack.kit.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from civicstack.kit.i18n import N_
from civicstack.kit.reasons import stated_reason
from civicstack.organisations import service as organisations
from civicstack.organisations import taxcode
from civicstack.organisations.models import MemberPermission
from civicstack.registry import service as registry
from civicstack.registry.models import Person
from civicstack.wallet import catalogue, register_claims, repository, sdjwt, statuslist
from civicstack.wallet.models import (
    Credential,
    DocumentType,
    HolderKey,
    Issuer,
    IssuerGrant,
    MemberAuthorisation,
    StatusList,
)
from civicstack.wallet.site import (
    IN_PERSON_AUDIENCE,
    STATUS_LIST_LIFETIME_S,
    STATUS_LIST_TTL_S,
    WalletSite,
)
from civicstack.wallet.statuslist import CredentialStatus

STATUS_BITS = {"valid": CredentialStatus.VALID, "revoked": CredentialStatus.INVALID,
               "suspended": CredentialStatus.SUSPENDED}
LIST_FILL_LIMIT = 0.75  # past this, a new list: random indices stay cheap to find
MAX_CLAIM_LENGTH = 300
MARRIAGE_CERTIFICATE = "marriage_certificate"  # offered from the marriage age only


def now() -> datetime:
    return datetime.now(UTC)


def vct_for(document: DocumentType) -> str:
    return f"urn:vn:civicstack:{document.code}:{document.schema_version}"


def document_code_of(vct: str) -> str:
    """'urn:vn:civicstack:id_card:1' -> 'id_card'; '' for a type that is not ours."""
    parts = vct.split(":")
    return parts[3] if len(parts) == 5 and parts[:3] == ["urn", "vn", "civicstack"] else ""


# --- catalogue ------------------------------------------------------------------------------

def seed_catalogue(session: Session) -> int:
    """Load the demo seed of issuers and document types; returns how many were new."""
    added = 0
    for seed in catalogue.ISSUERS:
        if repository.issuer_by_slug(session, seed.slug) is None:
            session.add(Issuer(slug=seed.slug, name=seed.name, name_en=seed.name_en,
                               created_at=now()))
            added += 1
    session.flush()
    for kind in catalogue.DOCUMENT_TYPES:
        if repository.document_type(session, kind.code) is None:
            issuer = _issuer(session, kind.issuer)
            session.add(DocumentType(
                code=kind.code, issuer_id=issuer.id, name=kind.name, name_en=kind.name_en,
                subject_kind=kind.subject_kind, source=kind.source,
                schema_version=kind.schema_version,
                claims=[claim.as_dict() for claim in kind.claims],
                validity_days=kind.validity_days, integrated_on=kind.integrated_on))
            added += 1
    session.flush()
    return added


def _issuer(session: Session, slug: str) -> Issuer:
    issuer = repository.issuer_by_slug(session, slug)
    if issuer is None:
        raise NotFound(f"no issuing agency '{slug}'")
    return issuer


def issuer(session: Session, slug: str) -> Issuer:
    return _issuer(session, slug)


def issuers(session: Session) -> list[Issuer]:
    return repository.issuers(session)


def document_type(session: Session, code: str) -> DocumentType:
    found = repository.document_type(session, code)
    if found is None:
        raise NotFound(f"no document type '{code}'")
    return found


def document_types(session: Session) -> list[DocumentType]:
    return repository.document_types(session)


# --- claims ---------------------------------------------------------------------------------

def _check_value(spec: dict[str, Any], value: Any) -> str | None:
    """Why `value` does not fit the claim's type, or None."""
    kind = spec["type"]
    if kind == "date":
        try:
            date.fromisoformat(str(value))
        except ValueError:
            return "must be a date written YYYY-MM-DD"
        return None
    expected = {"string": str, "integer": int, "boolean": bool, "array": list,
                "object": dict}[kind]
    if not isinstance(value, expected) or (kind == "integer" and isinstance(value, bool)):
        return f"must be of type {kind}"
    if isinstance(value, str) and not 0 < len(value.strip()) <= MAX_CLAIM_LENGTH:
        return f"must be 1 to {MAX_CLAIM_LENGTH} characters"
    return None


def check_claims(document: DocumentType, claims: dict[str, Any]) -> dict[str, Any]:
    """The claims, checked against the document type's schema: every required claim present,
    each of its type, nothing the schema does not know."""
    specs = {spec["name"]: spec for spec in document.claims}
    errors = [FieldError(name, "not a claim of this document type") for name in claims
              if name not in specs]
    for name, spec in specs.items():
        if name not in claims or claims[name] in (None, ""):
            if spec["required"]:
                errors.append(FieldError(name, "required"))
            continue
        problem = _check_value(spec, claims[name])
        if problem:
            errors.append(FieldError(name, problem))
    if errors:
        raise Invalid.of_fields(errors)
    return {name: claims[name] for name in specs if claims.get(name) not in (None, "")}


def _check_subject(session: Session, actor: Actor, document: DocumentType,
                   subject_id: str, claims: dict[str, Any]) -> None:
    if document.subject_kind == "organisation":
        if not taxcode.is_valid(subject_id) or claims.get("tax_code") != subject_id:
            raise Invalid("subject", "an organisation's document names it by its valid tax "
                                     "code, the same as the 'tax_code' claim")
        organisations.require_active(session, subject_id)  # its wallet exists only then
        return
    if claims.get("personal_id_number") != subject_id:
        raise Invalid("personal_id_number", "must be the ID number of the document's holder")
    person = registry.get_person(session, actor, subject_id,
                                 f"bind the {document.code} document to its holder")
    if person.status != "alive":
        raise Conflict(f"person {subject_id} is recorded as deceased; no new documents")
    if person.full_name != claims.get("full_name") or \
            person.date_of_birth.isoformat() != claims.get("date_of_birth"):
        raise Invalid("full_name", "name and date of birth must match the population register")


# --- issuing --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Issued:
    credential: Credential
    sd_jwt: str


def holder_jwk(session: Session, site: WalletSite, subject_id: str) -> dict[str, Any]:
    """The portal wallet's private key for this person or organisation, made on first use."""
    stored = repository.holder_key(session, subject_id)
    if stored is None:
        key = sdjwt.new_holder_key()
        stored = HolderKey(subject_id=subject_id, created_at=now(), sealed_jwk=site.documents.seal(
            key.export_private().encode(), subject_id.encode()))
        session.add(stored)
        session.flush()
    private: dict[str, Any] = json.loads(site.documents.open(stored.sealed_jwk,
                                                             subject_id.encode()))
    return private


def _public(jwk: dict[str, Any]) -> dict[str, Any]:
    return {name: jwk[name] for name in ("kty", "crv", "x", "y")}


def _status_position(session: Session, issuer: Issuer) -> tuple[StatusList, int]:
    """A random free index: neighbouring indices say nothing about who was issued when."""
    current = repository.open_status_list(session, issuer.id)
    if current is None or repository.used_indices(session, current.id) >= \
            current.size * LIST_FILL_LIMIT:
        current = StatusList(issuer_id=issuer.id, number=current.number + 1 if current else 1,
                             size=statuslist.LIST_SIZE)
        session.add(current)
        session.flush()
    while True:
        index = secrets.randbelow(current.size)
        if not repository.index_taken(session, current.id, index):
            return current, index


def issue_credential(session: Session, site: WalletSite, actor: Actor, document_code: str,
                     subject_id: str, claims: dict[str, Any],
                     wallet_app_key: dict[str, Any] | None = None,
                     copy_of: Credential | None = None, replaces_held: bool = False) -> Issued:
    """Issue one document. Without `wallet_app_key` it goes to the portal wallet (sealed, bound
    to the portal's holder key, replacing an earlier copy of a register document); with it,
    to the wallet app that proved possession of that key (OpenID4VCI), and is not kept. A
    wallet app's copy of a portal document (`copy_of`) follows that document's status. A renewal
    (`replaces_held`) revokes the holder's earlier portal copies of the document."""
    document = document_type(session, document_code)
    checked = check_claims(document, claims)
    _check_subject(session, actor, document, subject_id, checked)
    issuer = session.get(Issuer, document.issuer_id)
    assert issuer is not None  # a foreign key
    status_list, index = _status_position(session, issuer)
    moment = now()
    expires = moment + timedelta(days=document.validity_days)
    bound_to = wallet_app_key or _public(holder_jwk(session, site, subject_id))
    key, kid = site.jwcrypto_signer(issuer.slug)
    token = sdjwt.issue(sdjwt.CredentialDraft(
        site.issuer_url(issuer.slug), vct_for(document), checked, int(moment.timestamp()),
        int(expires.timestamp()), site.status_list_uri(issuer.slug, status_list.number), index,
        bound_to), key, kid)
    if wallet_app_key is None and (document.source == "register" or replaces_held):
        _replace_portal_copies(session, actor, subject_id, document)
    credential = Credential(
        public_id=secrets.token_hex(16), document_type_id=document.id, subject_id=subject_id,
        holder="wallet-app" if wallet_app_key else "portal",
        schema_version=document.schema_version, status="valid", status_reason="",
        status_list_id=status_list.id, status_index=index, issued_at=moment, expires_at=expires,
        copy_of_id=copy_of.id if copy_of else None,
        sealed_sd_jwt=None if wallet_app_key else site.documents.seal(
            token.encode(), subject_id.encode()))
    session.add(credential)
    session.flush()
    audit.record(session, actor, "wallet.credential.issue", subject_type=_subject_type(document),
                 subject_id=subject_id, purpose=f"issue {document.code} into the wallet",
                 detail={"credential": credential.public_id, "holder": credential.holder,
                         "claims": sorted(checked)})
    return Issued(credential, token)


def _subject_type(document: DocumentType) -> str:
    return "person" if document.subject_kind == "person" else "organisation"


def _replace_portal_copies(session: Session, actor: Actor, subject_id: str,
                           document: DocumentType) -> None:
    for earlier in repository.portal_copies(session, subject_id, document.id):
        _set_status(session, actor, earlier, "revoked", N_("replaced by a newer copy"))


def issue_from_register(session: Session, site: WalletSite, subject_id: str,
                        document_code: str) -> Issued:
    """A document whose data is the register's, issued at the holder's request; the issuing
    agency is the actor of the register read."""
    document = document_type(session, document_code)
    if document.source != "register":
        raise Invalid("document_type", "this document comes from its agency's own system")
    issuer = session.get(Issuer, document.issuer_id)
    assert issuer is not None
    actor = Actor("issuer", issuer.slug)
    claims = register_claims.claims_from_register(session, actor, document_code, subject_id)
    return issue_credential(session, site, actor, document_code, subject_id, claims)


def acts_for(session: Session, actor: Actor, issuer_id: int) -> bool:
    """Whether the actor holds the issuer's grant (the shell, where keys and grants are made,
    needs none): the one rule for pushing an issuer's documents and for changing their status."""
    return actor.kind == "cli" or repository.grant(session, issuer_id, str(actor)) is not None


def require_grant(session: Session, actor: Actor, issuer_slug: str) -> Issuer:
    """An operator key may push documents only for the issuers it was granted."""
    actor.require(Permission.WALLET_ISSUE)
    found = _issuer(session, issuer_slug)
    if not acts_for(session, actor, found.id):
        raise Forbidden(f"this key may not issue documents for '{issuer_slug}'")
    return found


def push_credential(session: Session, site: WalletSite, actor: Actor, issuer_slug: str,
                    document_code: str, subject_id: str, claims: dict[str, Any]) -> Issued:
    issuer = require_grant(session, actor, issuer_slug)
    document = document_type(session, document_code)
    if document.code == AUTHORISATION:  # else any key of the issuer could make one up
        raise Invalid("document_type", "an authorisation to act for an organisation is issued "
                                       "only from the organisation register's memberships")
    if document.issuer_id != issuer.id:
        raise Invalid("document_type", f"'{document_code}' is not issued by '{issuer_slug}'")
    return issue_credential(session, site, actor, document_code, subject_id, claims)


def grant_issuer(session: Session, actor: Actor, issuer_slug: str, grantee: Actor) -> None:
    """Let an operator key push the issuer's documents, and a key or an official change their
    status."""
    actor.require(Permission.OFFICIALS_MANAGE)
    found = _issuer(session, issuer_slug)
    if repository.grant(session, found.id, str(grantee)):
        raise Conflict(f"'{grantee}' already acts for '{issuer_slug}'")
    session.add(IssuerGrant(issuer_id=found.id, grantee=str(grantee), created_at=now()))
    audit.record(session, actor, "wallet.issuer.grant", subject_type="issuer",
                 subject_id=issuer_slug, purpose="issuer key management",
                 detail={"grantee": str(grantee)})


# --- status ---------------------------------------------------------------------------------

NO_GRANT = N_("only a key or an official granted for this document's issuer may change its "
              "status")
ALLOWED_CHANGES = {("valid", "suspended"), ("valid", "revoked"), ("suspended", "valid"),
                   ("suspended", "revoked")}


def _set_status(session: Session, actor: Actor, credential: Credential, status: str,
                reason: str) -> None:
    if (credential.status, status) not in ALLOWED_CHANGES:
        raise Conflict(f"a {credential.status} document cannot become {status}")
    previous, credential.status = credential.status, status
    credential.status_reason, credential.status_changed_at = reason, now()
    repository.forget_status_token(session, [credential.status_list_id])
    audit.record(session, actor, f"wallet.credential.{_verb(status)}", subject_type="person",
                 subject_id=credential.subject_id, purpose=reason,
                 detail={"credential": credential.public_id, "from": previous})
    for copy in repository.copies_of(session, credential.id):
        if (copy.status, status) in ALLOWED_CHANGES:
            _set_status(session, actor, copy, status, reason)


def _verb(status: str) -> str:
    return {"valid": "reinstate", "suspended": "suspend", "revoked": "revoke"}[status]


def change_status(session: Session, actor: Actor, public_id: str, status: str,
                  reason: str) -> Credential:
    """An official or an agency's system that acts for the document's issuer revokes, suspends
    or reinstates a document of a person within its scope (the register checks where the
    holder lives, and audits it)."""
    actor.require(Permission.WALLET_STATUS)
    if status not in STATUS_BITS:
        raise Invalid("status", "must be valid, suspended or revoked")
    credential = repository.credential(session, public_id, lock=True)
    if credential is None:
        raise NotFound(f"no document {public_id}")
    document = session.get(DocumentType, credential.document_type_id)
    assert document is not None  # a foreign key
    if not acts_for(session, actor, document.issuer_id):
        raise Forbidden(NO_GRANT)
    cleaned = stated_reason(reason, max_length=300)
    if document.subject_kind == "person":
        registry.get_person(session, actor, credential.subject_id,
                            f"change the status of a wallet document: {cleaned}")
    _set_status(session, actor, credential, status, cleaned)
    return credential


def report_lost(session: Session, subject_id: str, public_id: str) -> Credential:
    """The holder reports a lost card or phone: the document is suspended at once, so a finder
    cannot use it; the police reinstate it when it is found."""
    credential = repository.credential(session, public_id, lock=True)
    if credential is None or credential.subject_id != subject_id:
        raise NotFound("no such document in your wallet")
    _set_status(session, Actor("citizen", subject_id), credential, "suspended",
                N_("reported lost by the holder"))
    return credential


# What a holder's death does to each kind of document (the issuers' policy, docs/wallet.md):
# revoked, unless listed here. Social security suspends its cards instead, because claims for
# care given before the death are still settled against them and the survivors' allowance is
# worked out from the record; it revokes them itself once that is done.
ON_DEATH: dict[str, str] = {"health_insurance": "suspended", "social_insurance": "suspended"}
# An ID card reported lost may still be found (the police reinstate it); a revoked one is over.
ON_CARD_END = {registry.CardEnd.LOST: "suspended", registry.CardEnd.REVOKED: "revoked"}
DECEASED_REASON = N_("holder recorded as deceased")
CLOSED_REASON = "eID account closed by the holder"


def _apply(session: Session, credentials: list[Credential], status_of: dict[int, str],
           reason: str) -> int:
    """Move each credential to the status its document type's policy says, where that is a
    change the status table allows; what is already there (a replayed event) stays."""
    changed = 0
    for credential in credentials:
        status = status_of[credential.document_type_id]
        if (credential.status, status) in ALLOWED_CHANGES:
            _set_status(session, SYSTEM, credential, status, reason)
            changed += 1
    return changed


def _policy(session: Session, policy: dict[str, str], default: str) -> dict[int, str]:
    return {d.id: policy.get(d.code, default) for d in repository.document_types(session)}


def on_person_died(session: Session, died: registry.PersonDied) -> int:
    """Every document of the person, by its issuer's policy (subscribed to
    `registry.PersonDied`)."""
    return _apply(session, repository.credentials_of(session, died.personal_id_number),
                  _policy(session, ON_DEATH, "revoked"), DECEASED_REASON)


def on_id_card_ended(session: Session, ended: registry.IdCardRevoked) -> int:
    """The wallet's ID card follows the card: suspended when lost, revoked when revoked
    (subscribed to `registry.IdCardRevoked`)."""
    card = document_type(session, "id_card")
    held = [c for c in repository.credentials_of(session, ended.personal_id_number)
            if c.document_type_id == card.id]
    return _apply(session, held, {card.id: ON_CARD_END[ended.ending]},
                  f"ID card {ended.card_number} {ended.ending.value}")


def on_account_closed(session: Session, closed: AccountClosed) -> int:
    """The holder closed their account: every copy in their wallet is revoked and the portal's
    sealed copy erased (subscribed to `identity.AccountClosed`). A death is the register's
    event, handled by its own policy above, so a closure for death changes nothing here."""
    if closed.reason != ClosureReason.OWN_REQUEST:
        return 0
    held = repository.credentials_of(session, closed.personal_id_number)
    changed = _apply(session, held, _policy(session, {}, "revoked"), CLOSED_REASON)
    for credential in held:
        credential.sealed_sd_jwt = None
    return changed


# --- authorisations to act for an organisation -------------------------------------------

AUTHORISATION = "organisation_authorisation"
AUTHORISING = Actor("issuer", "bo-cong-an")  # the eID system records who acts for whom


def issue_authorisations(session: Session, site: WalletSite,
                         personal_id_number: str) -> list[Issued]:
    """An authorisation credential into the citizen's wallet for each active organisation they
    act for and hold none yet (just authorised, or the organisation reinstated): signed by the
    eID system, it tells a bank who may act for which organisation, how, and until when."""
    account = identity.account_for_person(session, personal_id_number)
    document = repository.document_type(session, AUTHORISATION)
    if account is None or document is None:  # a catalogue seeded before the type existed
        return []
    acting = organisations.organisations_acting(session, account.id)
    attested = repository.attested_members(session, [a.member_id for a in acting])
    missing = [a for a in acting if a.member_id not in attested]
    if not missing:
        return []
    person = registry.get_person(session, AUTHORISING, personal_id_number,
                                 "attest who acts for an organisation")
    valid_to = (now() + timedelta(days=document.validity_days)).date()
    issued = []
    for standing in missing:
        claims = {"personal_id_number": personal_id_number, "full_name": person.full_name,
                  "date_of_birth": person.date_of_birth.isoformat(),
                  "organisation_tax_code": standing.tax_code,
                  "organisation_name": standing.organisation.name, "role": standing.role,
                  "permissions": standing.permission_names, "valid_to": valid_to.isoformat()}
        found = issue_credential(session, site, AUTHORISING, AUTHORISATION, personal_id_number,
                                 claims)
        session.add(MemberAuthorisation(credential_id=found.credential.id,
                                        tax_code=standing.tax_code,
                                        member_id=standing.member_id))
        issued.append(found)
    session.flush()
    return issued


def on_authorisation_ended(session: Session, ended: organisations.AuthorisationEnded) -> int:
    """Revoke the authorisation credentials of a membership that ended, or of every member of
    a suspended organisation (subscribed to `organisations.AuthorisationEnded`): a bank
    checking the status list then refuses them."""
    held = repository.authorisations(session, ended.tax_code, ended.member_id)
    return _apply(session, held, _policy(session, {}, "revoked"), ended.reason)


# --- status lists ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SignedStatusList:
    token: str
    expires_at: datetime


def status_list_token(session: Session, site: WalletSite, issuer_slug: str,
                      number: int) -> SignedStatusList:
    """The signed list, re-signed only after a status changed or half its lifetime passed."""
    found = _issuer(session, issuer_slug)
    listed = repository.status_list(session, found.id, number)
    if listed is None:
        raise NotFound(f"issuer '{issuer_slug}' has no status list {number}")
    moment = now()
    fresh_until = moment + timedelta(seconds=STATUS_LIST_LIFETIME_S // 2)
    if listed.token is None or listed.token_expires_at is None or \
            as_utc(listed.token_expires_at) < fresh_until:
        entries = {index: STATUS_BITS[status] for index, status in
                   repository.flagged_entries(session, listed.id).items()}
        expires = moment + timedelta(seconds=STATUS_LIST_LIFETIME_S)
        listed.token = statuslist.sign(statuslist.ListClaims(
            site.status_list_uri(issuer_slug, number), int(moment.timestamp()),
            int(expires.timestamp()), STATUS_LIST_TTL_S),
            statuslist.encode(entries, listed.size), site.signing_key(issuer_slug))
        listed.token_expires_at = expires
    assert listed.token_expires_at is not None
    return SignedStatusList(listed.token, as_utc(listed.token_expires_at))


def trust_bundle(session: Session, site: WalletSite) -> dict[str, Any]:
    """What an offline verifier caches: every issuer's public keys and current status lists."""
    lists = {site.status_list_uri(slug, listed.number):
             status_list_token(session, site, slug, listed.number).token
             for listed, slug in repository.status_lists(session)}
    return {"issued_at": int(now().timestamp()),
            "issuers": {site.issuer_url(i.slug): site.jwks(i.slug)
                        for i in repository.issuers(session)},
            "status_lists": lists}


# --- the citizen's wallet -------------------------------------------------------------------

@dataclass(frozen=True)
class Card:
    credential: Credential
    document: DocumentType
    issuer: Issuer
    claims: dict[str, Any]

    @property
    def expired(self) -> bool:
        return as_utc(self.credential.expires_at) <= now()


def _open(site: WalletSite, credential: Credential) -> str:
    assert credential.sealed_sd_jwt is not None
    return site.documents.open(credential.sealed_sd_jwt, credential.subject_id.encode()).decode()


def _shown(credential: Credential) -> bool:
    """The portal wallet shows its own copies that were not revoked."""
    return credential.holder == "portal" and credential.status != "revoked"


def _card(session: Session, site: WalletSite, credential: Credential) -> Card:
    document = session.get(DocumentType, credential.document_type_id)
    assert document is not None  # a foreign key
    issuer = session.get(Issuer, document.issuer_id)
    assert issuer is not None
    return Card(credential, document, issuer, sdjwt.disclosed_claims(_open(site, credential)))


def cards(session: Session, site: WalletSite, subject_id: str) -> list[Card]:
    """The portal wallet's documents, newest first; revoked ones are kept out of sight."""
    return [_card(session, site, credential)
            for credential in repository.credentials_of(session, subject_id)
            if _shown(credential)]


def organisation_cards(session: Session, site: WalletSite, account: CitizenAccount,
                       tax_code: str) -> tuple[organisations.Acting, list[Card]]:
    """The organisation's wallet, for its representative or a member allowed to see its
    documents (organisations.service decides); each opening is audited on the
    organisation, naming the member."""
    acting = organisations.acting_for(session, account.id, tax_code,
                                      MemberPermission.DOCUMENTS_VIEW)
    audit.record(session, Actor("citizen", account.personal_id_number),
                 "wallet.organisation.view",
                 subject_type="organisation", subject_id=acting.tax_code,
                 purpose="the organisation's wallet", detail={"role": acting.role})
    return acting, cards(session, site, acting.tax_code)


def organisation_wallets(session: Session,
                         personal_id_number: str) -> list[organisations.Acting]:
    """The organisations whose wallet this citizen may open."""
    account = identity.account_for_person(session, personal_id_number)
    return organisations.organisations_acting(session, account.id,
                                              MemberPermission.DOCUMENTS_VIEW) if account else []


def card(session: Session, site: WalletSite, subject_id: str, public_id: str) -> Card:
    """One document of the holder's wallet, the only one unsealed."""
    credential = repository.credential(session, public_id)
    if credential is None or credential.subject_id != subject_id or not _shown(credential):
        raise NotFound("no such document in your wallet")
    return _card(session, site, credential)


def present(session: Session, site: WalletSite, subject_id: str, public_id: str,
            disclose: list[str], audience: str, nonce: str) -> str:
    """A presentation of the chosen claims, signed with the portal wallet's holder key."""
    chosen = card(session, site, subject_id, public_id)
    unknown = sorted(set(disclose) - set(chosen.claims))
    if unknown or not disclose:
        raise Invalid("disclose", f"choose among this document's claims (not {unknown})"
                      if unknown else "choose at least one claim to show")
    if chosen.credential.status != "valid" or chosen.expired:
        raise Conflict("this document is suspended or expired and cannot be shown")
    key = sdjwt.jwcrypto_key(holder_jwk(session, site, subject_id))
    presentation = sdjwt.present(_open(site, chosen.credential), disclose, key, audience, nonce)
    audit.record(session, Actor("citizen", subject_id), "wallet.presentation.create",
                 subject_type="person", subject_id=subject_id,
                 purpose="show wallet data", detail={"credential": public_id,
                                                     "audience": audience, "claims": disclose})
    return presentation


def present_in_person(session: Session, site: WalletSite, subject_id: str, public_id: str,
                      disclose: list[str]) -> str:
    return present(session, site, subject_id, public_id, disclose, IN_PERSON_AUDIENCE,
                   sdjwt.new_nonce())


# --- the monthly list of integrated documents -----------------------------------------------

@dataclass(frozen=True)
class IntegratedDocument:
    month: str  # YYYY-MM
    issuer: Issuer
    document: DocumentType
    issued: int


def integrated_documents(session: Session) -> list[IntegratedDocument]:
    """Per document type: its agency, personal or organisation, the month it was integrated
    and how many have been issued, by month of integration."""
    counts = repository.issued_counts(session)
    issuers_by_id = {i.id: i for i in repository.issuers(session)}
    return [IntegratedDocument(d.integrated_on.strftime("%Y-%m"), issuers_by_id[d.issuer_id], d,
                               counts.get(d.id, 0))
            for d in repository.document_types(session)]


# --- pages: labelled claims, documents to add, the officials' list --------------------------

@dataclass(frozen=True)
class LabelledClaim:
    name: str
    label: str  # Vietnamese
    label_en: str
    type: str  # the schema's JSON type, so pages can show dates and lists readably
    value: Any


def labelled_claims(document: DocumentType, claims: dict[str, Any]) -> list[LabelledClaim]:
    """The claims in the schema's order, each with its labels; one the schema does not know
    (a credential of an older schema version) keeps its name as label."""
    specs = {spec["name"]: spec for spec in document.claims}
    ordered = [name for name in specs if name in claims] + \
        [name for name in claims if name not in specs]
    return [LabelledClaim(name, specs.get(name, {}).get("label", name),
                          specs.get(name, {}).get("label_en", name),
                          specs.get(name, {}).get("type", "string"), claims[name])
            for name in ordered]


def addable_from_register(session: Session, held: list[Card], personal_id_number: str,
                          today: date) -> list[DocumentType]:
    """The register's documents for a person that are not in this wallet yet and that the
    person can have: no marriage certificate offered below the marriage age (issue 19: a
    15-year-old was offered one)."""
    codes = {found.document.code for found in held}
    if not registry.may_have_married(personal_id_number, today):
        codes.add(MARRIAGE_CERTIFICATE)
    return [d for d in repository.document_types(session)
            if d.source == "register" and d.subject_kind == "person" and d.code not in codes]


@dataclass(frozen=True)
class HeldDocument:
    credential: Credential
    document: DocumentType
    issuer: Issuer
    may_change_status: bool  # the official acts for its issuer


def credentials_of_person(session: Session, actor: Actor, personal_id_number: str,
                          purpose: str) -> tuple[Person, list[HeldDocument]]:
    """Every document issued to a person, in any wallet and any status, for an official who
    may change the status of those whose issuer they act for; the person is read through the
    register (scope, audit)."""
    actor.require(Permission.WALLET_STATUS)
    person = registry.get_person(session, actor, personal_id_number.strip(), purpose)
    types = {d.id: d for d in repository.document_types(session)}
    issuers_by_id = {i.id: i for i in repository.issuers(session)}
    acting_for = {i for i in issuers_by_id if acts_for(session, actor, i)}
    held = [HeldDocument(c, types[c.document_type_id],
                         issuers_by_id[types[c.document_type_id].issuer_id],
                         types[c.document_type_id].issuer_id in acting_for)
            for c in repository.credentials_of(session, person.personal_id_number)]
    audit.record(session, actor, "wallet.credential.list", subject_type="person",
                 subject_id=person.personal_id_number, purpose=" ".join(purpose.split()),
                 detail={"credentials": [h.credential.public_id for h in held]})
    return person, held


@dataclass(frozen=True)
class DocumentStatus:
    """What another agency may learn of a held document: its kind and standing, no content."""

    document_type: str
    issuer: str
    status: str  # valid, suspended, revoked
    expires_at: datetime


def document_statuses(session: Session, actor: Actor, personal_id_number: str,
                      purpose: str) -> list[DocumentStatus]:
    """The kind and status of every document issued to a person (portal and wallet-app copies
    alike), for a connected agency system; audited under the person."""
    types = {d.id: d for d in repository.document_types(session)}
    slugs = {i.id: i.slug for i in repository.issuers(session)}
    held = repository.credentials_of(session, personal_id_number)
    audit.record(session, actor, "wallet.credential.status_read", subject_type="person",
                 subject_id=personal_id_number, purpose=" ".join(purpose.split()),
                 detail={"credentials": [c.public_id for c in held]})
    return [DocumentStatus(types[c.document_type_id].code,
                           slugs[types[c.document_type_id].issuer_id], c.status, c.expires_at)
            for c in held]


def on_record(session: Session, actor: Actor, personal_id_number: str, document_code: str,
              purpose: str) -> str | None:
    """What an official at the counter holds a presented document against, when the holder's
    wallet lacks it: the register's record for a document whose data is the register's (the
    ID card's number), or the issuer's record of a valid, unexpired document of the kind; None
    when neither holds one. Every read is audited under the person."""
    if document_type(session, document_code).source == "register":
        try:
            claims = register_claims.claims_from_register(session, actor, document_code,
                                                          personal_id_number, purpose)
        except Conflict:  # the register holds no such record for the person
            return None
        return f"register {claims.get('card_number', document_code)}"
    moment = datetime.now(UTC)
    for held in document_statuses(session, actor, personal_id_number, purpose):
        if held.document_type == document_code and held.status == "valid" and \
                as_utc(held.expires_at) > moment:
            return f"issuer {held.issuer}"
    return None


# --- a parent's view of their young children's documents ------------------------------------

PURPOSE_CHILDREN = "show a parent their young child's documents"
CHILD_AGE_LIMIT = 14  # a child under 14 has no eID account of their own


def children_cards(session: Session, site: WalletSite, parent_pid: str) -> list[Card]:
    """The portal documents of the parent's living children under 14, found through the
    register's family relations; each child's documents read is audited under the child."""
    parent = Actor("citizen", parent_pid)
    history = registry.person_history(session, parent, parent_pid, PURPOSE_CHILDREN)
    today = date.today()
    found: list[Card] = []
    for relative in history.relatives:
        child = relative.person
        if relative.kind != "child" or child.status != "alive" or \
                registry.age_on(child.date_of_birth, today) >= CHILD_AGE_LIMIT:
            continue
        held = cards(session, site, child.personal_id_number)
        audit.record(session, parent, "wallet.credential.list", subject_type="person",
                     subject_id=child.personal_id_number, purpose=PURPOSE_CHILDREN,
                     detail={"credentials": [c.credential.public_id for c in held]})
        found.extend(held)
    return found
