"""Security monitoring: what operators watch (failed sign-ins, lockouts, rate limits, exchange
refusals, the hash chains of the logs), alert thresholds, and the metrics behind them."""

from civicstack.kit.installing import Installer


def install(installer: Installer) -> None:
    from civicstack.kit.audit import AUDIT_LOG
    from civicstack.kit.partitions import partition_job
    from civicstack.kit.transparency import LOG_PUBLISHING, publishing_from, sealer_job
    from civicstack.security import api, cli, jobs, web

    # The logs' key and witness, shared by the sealers (the audit log's here, the exchange's in
    # its domain) and the verification.
    installer.provide(LOG_PUBLISHING, lambda services: publishing_from(services.settings))
    installer.job("audit_log_seal", installer.settings.log_seal_seconds, sealer_job(AUDIT_LOG))
    installer.job("audit_log_partitions", 86400, partition_job("audit_entry"))

    # Chains before alerts: at start-up, alerts must see this run's verification. Whether one
    # is due is asked often; the verifications it records set the pace.
    installer.job("hash_chains", 600, jobs.verify_chains)
    installer.job("security_alerts", 60, jobs.evaluate_alerts)
    installer.router(api.router, prefix="/api/v1")
    installer.router(api.public)
    installer.router(web.router)
    installer.command_group(cli.security_app, "security")
