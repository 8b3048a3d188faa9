"""What audit entries mean to the people reading them: a label for each action code and for
each kind of actor. Codes stay the audit log's stable vocabulary; pages show these labels
(translated), and an unknown code is shown as it is rather than hidden."""

from __future__ import annotations

from civicstack.kit.i18n import N_

ACTION_LABELS = {
    "registry.person.read": N_("Your record was read"),
    "registry.person.history": N_("The history of your record was read"),
    "registry.person.identity_check": N_("Your details were checked against the register"),
    "registry.person.listed": N_("You were listed in a search result"),
    "registry.person.search_hit": N_("You were found by a search"),
    "registry.person.role_holder": N_("Your name was read as an organisation's representative"),
    "registry.person.create": N_("You were entered in the register"),
    "registry.event.birth": N_("Birth registered"),
    "registry.event.marriage": N_("Marriage registered"),
    "registry.event.divorce": N_("Divorce registered"),
    "registry.event.death": N_("Death registered"),
    "registry.event.residence_change": N_("Residence changed"),
    "registry.id_card.issue": N_("ID card issued"),
    "registry.household.create": N_("Household created"),
    "registry.household.add_member": N_("Added to a household"),
    "registry.household.read": N_("Your household was read"),
    "exchange.record.read": N_("A record another agency holds about you was read"),
    "registry.relation.parent": N_("Parent recorded"),
    "identity.account.register": N_("eID account registered"),
    "identity.phone.verify": N_("Phone verification code entered"),
    "identity.account.approve": N_("eID account approved"),
    "identity.read.reported": N_("You reported a use of your data"),
    "identity.read.report_closed": N_("Auditors checked a use you reported"),
    "identity.account.lock": N_("eID account locked by an official"),
    "identity.account.self_lock": N_("You locked your eID account"),
    "identity.account.unlock": N_("eID account unlocked"),
    "identity.login.signed_in": N_("Signed in"),
    "identity.login.wrong_credentials": N_("Failed sign-in: wrong password"),
    "identity.login.temporarily_locked": N_("Sign-in refused: too many failed attempts"),
    "identity.login.locked": N_("Sign-in refused: account locked"),
    "identity.login.not_active": N_("Sign-in refused: account not yet approved"),
    "identity.password_reset.request": N_("Password reset requested"),
    "identity.password_reset": N_("Password changed by reset"),
    "identity.session.end": N_("A signed-in device was signed out"),
    "identity.level2.authorise": N_("Level 2 activated at a police office"),
    "identity.totp.enrolment_start": N_("Authenticator app set-up started"),
    "identity.totp.enrol": N_("Authenticator app set up"),
    "identity.passkey.add": N_("Passkey added"),
    "identity.passkey.remove": N_("Passkey removed"),
    "identity.step_up": N_("Identity confirmed with the second factor"),
    "identity.face_photo.read": N_("Your registration photo was viewed"),
    "oidc.sign_in": N_("Signed in to a service"),
    "oidc.consent.grant": N_("Consent given to a service"),
    "oidc.consent.withdraw": N_("Consent withdrawn from a service"),
    "oidc.token.revoke": N_("A service's access was revoked"),
    "oidc.refresh.reuse_detected": N_("A reused token was detected; the service's access "
                                       "was revoked"),
    "organisation.register": N_("Organisation registered"),
    "organisation.member.authorised": N_("Authorised to act for an organisation"),
    "organisation.member.revoked": N_("Authorisation for an organisation withdrawn"),
    "organisation.representative.change": N_("Legal representative changed"),
    "wallet.credential.issue": N_("A document was added to your wallet"),
    "wallet.credential.suspend": N_("A document in your wallet was suspended"),
    "wallet.credential.revoke": N_("A document in your wallet was revoked"),
    "wallet.credential.reinstate": N_("A document in your wallet was reinstated"),
    "wallet.presentation.create": N_("You showed data from your wallet"),
    "wallet.presentation.read": N_("A service received data from your wallet"),
    "wallet.presentation.verify": N_("An official checked your wallet QR code"),
    "wallet.offer.create": N_("A document was offered to a wallet app"),
    "wallet.offer.wrong_pin": N_("A wrong PIN was entered for your wallet app offer"),
    "wallet.credential.list": N_("An official listed your wallet documents"),
    "wallet.credential.status_read": N_("The status of your wallet documents was read"),
    "wallet.presentation.refuse": N_("A wallet QR code was refused at a counter"),
    "biometrics.consent.grant": N_("You consented to face biometrics"),
    "biometrics.consent.withdraw": N_("You withdrew consent: your face template was deleted"),
    "biometrics.enrol": N_("Your face was enrolled"),
    "biometrics.match": N_("Your face was compared with your enrolment"),
    "biometrics.template.copy": N_("A copy of your face template was made for a journey"),
    "biometrics.case.decide": N_("An official reviewed a face look-alike case"),
    "biometrics.liveness": N_("A liveness check was made before comparing your face"),
    "biometrics.registration_match": N_("Your registration selfie was compared with your ID card"),
    "travel.face.opt_in": N_("Face boarding or face entry turned on for a journey"),
    "travel.face.opt_out": N_("Face boarding or face entry turned off: the copy was deleted"),
    "travel.touchpoint.decision": N_("A travel gate or kiosk checked you"),
    "travel.bags.drop": N_("Your checked bags were dropped"),
    "travel.read": N_("You viewed your journeys"),
    "learning.lesson.done": N_("You finished a lesson of a course"),
    "learning.quiz.submit": N_("You submitted a course quiz"),
}

ACTOR_KINDS = {
    "citizen": N_("Citizen"),
    "official": N_("Official"),
    "apikey": N_("Agency system"),
    "relying_party": N_("Service"),
    "cli": N_("Operator"),
    "system": N_("System"),
    "issuer": N_("Issuing agency"),
    "exchange": N_("Connected agency system (data exchange)"),
    "airline": N_("Airline"),
    "touchpoint": N_("Travel gate or kiosk"),
}


def action_label(code: str) -> str:
    return ACTION_LABELS.get(code, code)


def actor_label(actor: str) -> tuple[str, str]:
    """(kind label, name) of an audit entry's `kind:name` actor."""
    kind, _, name = actor.partition(":")
    return ACTOR_KINDS.get(kind, kind), name
