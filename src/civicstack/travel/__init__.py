"""Travel: flights and face boarding at airports, urban rail and parking touchpoints."""

from civicstack.kit import events
from civicstack.kit.installing import Installer


def install(installer: Installer) -> None:
    from civicstack.travel import api, cli, console_web, jobs, service, site, web

    installer.secret(site.COPY_SEALING_KEY)
    installer.provide(site.TRAVEL, site.travel_of)
    # Copies made for journeys must not outlive the enrolment they were copied from.
    installer.subscribe(events.FACE_TEMPLATE_REVOKED, service.delete_copies_of)
    installer.job("travel_purge", 600, jobs.purge)
    installer.router(api.router, prefix="/api/v1")
    installer.router(web.router)
    installer.router(console_web.router)
    installer.command_group(cli.travel_app, "travel")
    from civicstack.travel import life_events  # the passes of a closed eID account end
    life_events.subscribe(installer)
