"""Task monitoring like nq57: programmes, their tasks under the six clear principles, daily
progress, the leaders' overdue board and the ranking of agencies."""

from civicstack.kit.installing import Installer


def install(installer: Installer) -> None:
    from civicstack.monitoring import api, cli, console_web

    installer.router(console_web.router)
    installer.router(api.router, prefix="/api/v1")
    installer.command_group(cli.monitoring_app, "monitoring")
