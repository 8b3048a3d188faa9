"""Online public services: the procedure catalogue, dossiers and their workflow."""

from civicstack.kit.installing import Installer

# Whoever changes a dossier keeps the statistics' tallies: statistics.py listens to every flush
# from the moment the services' tables can be used.
from civicstack.services import statistics as _statistics  # noqa: F401


def install(installer: Installer) -> None:
    from civicstack.registry.service import PersonDied
    from civicstack.services import (
        api,
        catalogue_web,
        cli,
        console_web,
        home_web,
        jobs,
        reroute_web,
        rerouting,
        service,
        site,
        stats_web,
        web,
    )

    installer.provide(site.PAYMENTS, site.treasury_of)
    installer.subscribe_to(PersonDied, service.lapse_dossiers_of_deceased)
    installer.provide(site.RESULT_SIGNER, site.signer_of)
    installer.router(console_web.router)
    installer.router(reroute_web.router)  # before /console/catalogue/{code} would catch it
    installer.router(home_web.router)
    installer.router(catalogue_web.router)
    installer.router(stats_web.router)  # before /services/{code} would catch it
    installer.router(web.router)
    installer.router(api.router, prefix="/api/v1")
    installer.command_group(cli.services_app, "services")
    installer.job("payment_reconciliation", 300, jobs.reconcile_payments)
    installer.job("reroute_runs", 2, rerouting.run_reroutes)
