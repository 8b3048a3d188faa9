"""Organisation eID accounts: businesses registered by their legal representative."""

from civicstack.kit.installing import Installer

PUBLIC = ("taxcode",)  # besides service and models: the tax code's format and check digit


def install(installer: Installer) -> None:
    from civicstack.organisations import api, web

    installer.router(api.router, prefix="/api/v1")
    installer.router(web.router)
