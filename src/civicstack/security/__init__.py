"""Security monitoring: what operators watch (failed sign-ins, lockouts, rate limits, exchange
refusals, the hash chains of the logs), alert thresholds, and the metrics behind them."""

from civicstack.kit.installing import Installer


def install(installer: Installer) -> None:
    from civicstack.security import api, cli, jobs, web

    # Chains before alerts: at start-up, alerts must see this run's verification. Whether one
    # is due is asked often; the verifications it records set the pace.
    installer.job("hash_chains", 600, jobs.verify_chains)
    installer.job("security_alerts", 60, jobs.evaluate_alerts)
    installer.router(api.router, prefix="/api/v1")
    installer.router(web.router)
    installer.command_group(cli.security_app, "security")
