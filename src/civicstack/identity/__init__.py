"""Electronic identity accounts: one per citizen, the key to every online public service."""

from civicstack.kit.installing import Installer

# Besides service and models: the typed sign-in dependencies and how console forms answer
# (every domain's pages), the data-use reports support provides, the ID-card photo vault, the
# officials' accounts work is assigned to, the look-alike holds biometrics provides, and the
# demo citizens the other demos build on.
PUBLIC = ("auth", "console", "data_use", "photos", "officials", "face_holds", "demo")


def install(installer: Installer) -> None:
    from civicstack.identity import (
        auth,
        cli,
        closure,
        console_web,
        jobs,
        passkeys_web,
        photos,
        signin,
        web,
    )
    from civicstack.kit.console import OFFICIAL_RESOLVER
    from civicstack.registry.service import IdCardRevoked, PersonDied

    installer.provide(OFFICIAL_RESOLVER, lambda _: auth.signed_in_official)

    installer.provide(signin.UNKNOWN_IDENTIFIERS, lambda _: signin.UnknownIdentifiers())
    installer.secret(photos.PHOTO_KEY)
    installer.provide(photos.PHOTO_VAULT,
                      lambda services: photos.PhotoVault.of(services.secrets))
    installer.subscribe_to(PersonDied, closure.close_for_death)
    installer.subscribe_to(IdCardRevoked, closure.withdraw_level_two)
    installer.router(web.router)
    installer.router(console_web.router)
    installer.router(passkeys_web.router)
    installer.command_group(cli.official_app, "official")
    installer.job("identity_expired_purge", 3600, jobs.purge_expired)
