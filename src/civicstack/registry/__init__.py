"""National population register: administrative units, persons, households, civil status."""

from civicstack.kit.installing import Installer


def install(installer: Installer) -> None:
    from civicstack.registry import api, cli, web

    installer.router(api.router, prefix="/api/v1")
    installer.router(web.router)
    installer.command_group(cli.registry_app, "registry")
