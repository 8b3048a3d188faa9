"""Whom a verifier trusts: issuer keys and status lists, either live from this server's own
tables or from a cached bundle (an offline verifier: a gate, a counter with no network).
Both feed the same SD-JWT verifier (sdjwt.verify)."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.orm import Session

from civicstack.wallet import repository, sdjwt, statuslist
from civicstack.wallet.jws import PresentationRefused
from civicstack.wallet.site import WalletSite

STATUS_CODES = {"valid": 0, "revoked": 1, "suspended": 2}


def _keys_by_kid(jwks: dict[str, Any]) -> dict[str, ec.EllipticCurvePublicKey]:
    return {str(jwk.get("kid", "")): sdjwt.issuer_key(
        {name: jwk[name] for name in ("kty", "crv", "x", "y") if name in jwk})
        for jwk in jwks.get("keys", []) if jwk.get("kty") == "EC"}


class BundleTrust:
    """Trust from a bundle made by `service.trust_bundle` (`civicstack wallet trust-bundle`,
    `GET /api/v1/wallet/trust-bundle`): each status list is verified once, then cached
    (statuslist.VERIFIED_LISTS: across bundles too, by the list's exact text)."""

    def __init__(self, bundle: dict[str, Any], now: int) -> None:
        self._now = now
        self._keys = {issuer: _keys_by_kid(jwks)
                      for issuer, jwks in bundle.get("issuers", {}).items()}
        self._tokens: dict[str, str] = dict(bundle.get("status_lists", {}))
        self._lists: dict[str, statuslist.VerifiedList] = {}

    def issuer_key(self, issuer: str, kid: str) -> ec.EllipticCurvePublicKey | None:
        return self._keys.get(issuer, {}).get(kid)

    def status(self, uri: str, index: int) -> int:
        if uri not in self._lists:
            token = self._tokens.get(uri)
            issuer = uri.rsplit("/status/", 1)[0]
            if token is None or issuer not in self._keys:
                raise PresentationRefused("the credential's status list is not in the cached "
                                          "bundle; refresh it")
            self._lists[uri] = statuslist.VERIFIED_LISTS.read(token, self._keys[issuer].get,
                                                                  self._now)
        return self._lists[uri].status(index)


class LiveTrust:
    """Trust from this server's own keys and credential table: a revocation counts at once."""

    def __init__(self, session: Session, site: WalletSite) -> None:
        self._session = session
        self._site = site
        self._issuers = {site.issuer_url(i.slug): i for i in repository.issuers(session)}

    def issuer_key(self, issuer: str, kid: str) -> ec.EllipticCurvePublicKey | None:
        found = self._issuers.get(issuer)
        if found is None:
            return None
        return _keys_by_kid(self._site.jwks(found.slug)).get(kid)

    def status(self, uri: str, index: int) -> int:
        issuer_url, _, number = uri.rpartition("/status/")
        found = self._issuers.get(issuer_url)
        listed = (repository.status_list(self._session, found.id, int(number))
                  if found and number.isdigit() else None)
        if listed is None:
            raise PresentationRefused("the credential points to an unknown status list")
        state = repository.status_at(self._session, listed.id, index)
        return STATUS_CODES[state] if state else 0
