"""Citizen support: tickets and their threads, routing to queues, SLAs and escalation,
reports of data uses, verification requests and the clean-up of eID accounts."""

from civicstack.kit.installing import Installer


def install(installer: Installer) -> None:
    from civicstack.identity.data_use import DATA_USE_REPORTS
    from civicstack.support import cli, console_web, jobs, read_reports, web

    installer.provide(DATA_USE_REPORTS, lambda _: read_reports)

    installer.job("support_escalation", 300, jobs.escalate_late)
    installer.job("life_events_check", jobs.LIFE_EVENTS_CHECK_EVERY_S, jobs.life_events_check)
    installer.router(web.router)
    installer.router(console_web.router)
    installer.command_group(cli.support_app, "support")
