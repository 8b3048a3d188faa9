"""Face biometrics: the face pipeline, encrypted templates, enrolment with 1:N de-duplication,
1:1 verification and challenge-response liveness."""

from civicstack.kit import events
from civicstack.kit.installing import Installer

PUBLIC = ("site", "faces")


def install(installer: Installer) -> None:
    from civicstack.biometrics import api, cli, console_web, jobs, service, site, web
    from civicstack.identity.face_holds import FACE_HOLDS
    from civicstack.identity.service import AccountClosed
    from civicstack.registry.service import PersonDied

    installer.secret(site.TEMPLATE_KEY)
    installer.provide(site.BIOMETRICS, lambda services: site.biometrics_site(
        services.settings, services.secrets))
    installer.provide(FACE_HOLDS, lambda _: service.held_cases)
    installer.subscribe(events.FACE_CONSENT_GIVEN, service.consent_at_registration)
    installer.subscribe(events.ACCOUNT_AWAITS_APPROVAL, service.queue_registration_match)
    installer.subscribe_to(PersonDied, service.on_person_died)
    installer.subscribe_to(AccountClosed, service.on_account_closed)
    installer.job("registration_matches", jobs.EVERY_TICK, jobs.match_registrations)
    installer.on_shutdown(jobs.save_gallery)
    installer.router(api.router, prefix="/api/v1")
    installer.router(web.router)
    installer.router(console_web.router)
    installer.command_group(cli.biometrics_app, "biometrics")
