"""Government data exchange: member systems with their own keys, data-sharing agreements,
field-filtered signed answers, and a tamper-evident log of every request."""

from civicstack.kit.installing import Installer


def install(installer: Installer) -> None:
    from civicstack.exchange import api, cli, console_web, service, site, web
    from civicstack.kit.partitions import partition_job
    from civicstack.kit.transparency import sealer_job

    installer.signing_keys(service.KEY_RING, (service.SIGNING_ALGORITHM,))
    installer.provide(site.EXCHANGE_KEYS,
                      lambda services: service.key_ring(services.secrets))
    installer.router(api.router, prefix="/api/v1")
    installer.router(api.public)
    installer.router(web.router)
    installer.router(console_web.router)
    installer.command_group(cli.exchange_app, "exchange")
    installer.job("exchange_log_seal", installer.settings.log_seal_seconds,
                  sealer_job(service.MESSAGE_LOG))
    installer.job("exchange_log_partitions", 86400, partition_job("exchange_message"))
