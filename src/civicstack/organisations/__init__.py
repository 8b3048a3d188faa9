"""Organisation eID accounts: businesses registered by their legal representative."""

from civicstack.kit.installing import Installer

PUBLIC = ("taxcode",)  # besides service and models: the tax code's format and check digit


def install(installer: Installer) -> None:
    from civicstack.identity.service import AccountClosed
    from civicstack.organisations import api, service, web

    installer.subscribe_to(AccountClosed, service.flag_succession)
    installer.router(api.router, prefix="/api/v1")
    installer.router(web.router)
