"""Document wallet: government documents as SD-JWT verifiable credentials."""

from civicstack.kit.installing import Installer

PUBLIC = ("site",)


def install(installer: Installer) -> None:
    from civicstack.identity.service import AccountClosed
    from civicstack.organisations.service import AuthorisationEnded
    from civicstack.registry.service import IdCardRevoked, PersonDied
    from civicstack.wallet import (
        api,
        catalogue,
        cli,
        console_web,
        public_verifier_web,
        service,
        site,
        vci_api,
        vci_web,
        vp_api,
        vp_web,
        web,
    )

    installer.secret(site.SEALING_KEY)
    for issuer in catalogue.ISSUERS:
        installer.signing_keys(site.issuer_ring(issuer.slug), site.ISSUER_ALGORITHMS)
    installer.provide(site.WALLET_SITE, lambda services: site.wallet_site(
        services.settings, services.secrets))
    installer.subscribe_to(PersonDied, service.on_person_died)
    installer.subscribe_to(IdCardRevoked, service.on_id_card_ended)
    installer.subscribe_to(AccountClosed, service.on_account_closed)
    installer.subscribe_to(AuthorisationEnded, service.on_authorisation_ended)
    installer.router(api.public)
    installer.router(api.router, prefix="/api/v1")
    installer.router(vp_api.router)
    installer.router(vp_web.router)
    installer.router(vci_api.router)
    installer.router(vci_web.router)
    installer.router(web.router)
    installer.router(console_web.router)
    installer.router(public_verifier_web.router)
    installer.command_group(cli.wallet_app, "wallet")
