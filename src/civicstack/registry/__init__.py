"""National population register: administrative units, persons, households, civil status."""

from civicstack.kit.installing import Installer

# Besides service and models: the rules a person's data must meet (the phone format, the
# reference data a record is checked against) and the administrative units of the 2025 reform.
PUBLIC = ("rules", "units")


def install(installer: Installer) -> None:
    from civicstack.registry import api, cli, web

    installer.router(api.router, prefix="/api/v1")
    installer.router(web.router)
    installer.command_group(cli.registry_app, "registry")
