"""OpenID Connect provider: single sign-on with the eID account for relying parties."""

from civicstack.kit.installing import Installer
from civicstack.kit.keys import OIDC_RING

# Besides service and models: the wallet's OpenID4VCI issuer and OpenID4VP verifier speak
# OAuth too, with the provider's keys, clients and endpoint plumbing.
PUBLIC = ("site", "tokens", "protocol", "oauth_http", "clients")


def install(installer: Installer) -> None:
    from civicstack.identity.service import AccountClosed, SessionsEnded
    from civicstack.oidc import (
        api,
        backchannel,
        cli,
        console_web,
        demo_rp,
        jobs,
        service,
        site,
        web,
    )

    installer.secret(site.PAIRWISE_SALT)
    installer.secret(demo_rp.SESSION_KEY)
    installer.signing_keys(OIDC_RING)
    installer.provide(site.PROVIDER, site.provider_of)
    installer.subscribe_to(SessionsEnded, backchannel.on_sessions_ended)
    installer.subscribe_to(AccountClosed, service.withdraw_consents_of_closed)
    installer.job("oidc_backchannel_logout", 2, backchannel.deliver_due)
    installer.router(api.router)
    installer.router(web.router)
    installer.session_read_by_handler(web.AUTHORIZE_PATH)
    installer.router(console_web.router)
    installer.command_group(cli.oidc_app, "oidc")
    installer.job("oidc_expired_purge", 3600, jobs.purge_expired)
    if installer.settings.demo_relying_party:
        installer.mount(demo_rp.MOUNT, demo_rp.demo_bank_of)
