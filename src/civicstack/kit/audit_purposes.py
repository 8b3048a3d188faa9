"""The purposes of audited acts as codes with parameters (`wallet.issue?document_type=id_card`),
the way the audit log stores them, and their sentences, translated when shown. A purpose the
code writes as one of these sentences is stored as its code; an entry written before purposes
were codes is recognised by its sentence and shown translated too (entries are sealed, so they
are never rewritten); a purpose an official typed is stored and shown as typed."""

from __future__ import annotations

import re
from functools import cache
from urllib.parse import parse_qsl, urlencode

from civicstack.kit.i18n import N_

SEPARATOR = "?"
# code -> sentence, in English as the code used to write it (so older entries are recognised);
# a parameter appears as %(name)s.
PURPOSES = {
    "identity.registration": N_("eID account registration"),
    "identity.registration_short": N_("eID registration"),
    "identity.registration_face": N_("eID registration: face match"),
    "identity.approval_face": N_("eID account approval: comparing the face photo with the "
                                 "applicant"),
    "identity.level2": N_("eID level 2"),
    "identity.sign_in": N_("sign-in"),
    "identity.security": N_("account security"),
    "identity.password_reset": N_("password reset"),
    "identity.closed": N_("eID account closed (%(reason)s)"),
    "identity.cleanup": N_("eID account clean-up"),
    "identity.cleanup_review": N_("eID account clean-up: reviewing a proposal"),
    "registry.civil_status": N_("civil status registration"),
    "registry.household": N_("household registration"),
    "registry.id_card_issuance": N_("ID card issuance"),
    "registry.id_card_ended": N_("ID card %(ending)s"),
    "registry.bulk_registration": N_("bulk registration"),
    "registry.life_events_check": N_("life events: consistency check"),
    "registry.deceased_accounts": N_("life events: accounts of deceased holders still active"),
    "wallet.issue": N_("issue the %(document_type)s document into the wallet"),
    "wallet.issue_short": N_("issue %(document_type)s into the wallet"),
    "wallet.bind": N_("bind the %(document_type)s document to its holder"),
    "wallet.show": N_("show wallet data"),
    "wallet.send_to_app": N_("send a document to a wallet app"),
    "wallet.wrong_pin": N_("a wallet app sent a wrong PIN"),
    "wallet.children": N_("show a parent their young child's documents"),
    "wallet.counter_check": N_("in-person check of a wallet document at a counter"),
    "wallet.organisation": N_("the organisation's wallet"),
    "services.prefill": N_("prefill the applicant's dossier form"),
    "services.home_province": N_("show the public services of the citizen's province"),
    "services.inbox": N_("show the applicants of the dossiers in the official's inbox"),
    "services.counter_check": N_("check a document the applicant presents at the counter"),
    "services.record_for_applicant": N_("read the record of a document the applicant's "
                                        "wallet lacks"),
    "services.decision_effects": N_("carry out the approved dossier's decision"),
    "services.examine_documents": N_("examine the dossier's documents"),
    "oidc.sign_in": N_("single sign-on to %(service)s"),
    "oidc.logout": N_("single sign-on logout"),
    "oidc.logout_at": N_("single sign-on logout at %(service)s"),
    "organisations.members": N_("organisation members"),
    "support.caller": N_("support ticket: identifying the citizen and their ward"),
    "support.answer": N_("support ticket: answering the citizen"),
    "support.routing": N_("support routing"),
    "support.verification": N_("verification request: asking the citizen to confirm their "
                               "data"),
    "learning.roster": N_("check a learning cohort's roster against the register"),
    "biometrics.face": N_("face biometrics"),
    "biometrics.enrolment": N_("face enrolment"),
    "biometrics.consent_withdrawn": N_("consent to face biometrics withdrawn"),
    "biometrics.deduplication": N_("face de-duplication review"),
    "travel.own_journeys": N_("the citizen's own journeys"),
    "travel.touchpoint": N_("identity check at a travel touchpoint"),
    "travel.flight_operations": N_("flight operations"),
    "travel.face_entry_withdrawn": N_("withdrawn face entry"),
    "travel.face_boarding_withdrawn": N_("withdrawn face boarding"),
    "travel.deletion_after_departure": N_("deletion after departure"),
    "monitoring.security": N_("security monitoring"),
}
# Parameter values that are codes of ours, and the words they stand for.
VALUES = {
    "id_card": N_("ID card"),
    "residence_confirmation": N_("Residence confirmation"),
    "birth_certificate": N_("Birth certificate"),
    "marriage_certificate": N_("Marriage certificate"),
    "family_relations": N_("Family relations"),
    "health_insurance": N_("Health insurance card"),
    "driving_licence": N_("Driving licence"),
    "lost": N_("lost"),
    "revoked": N_("revoked"),
    "deceased": N_("deceased"),
}


def coded(code: str, **parameters: str) -> str:
    """The stored form of a purpose: its code, then its parameters as a query string."""
    if code not in PURPOSES:
        raise ValueError(f"unknown purpose code {code!r}")
    return code + (SEPARATOR + urlencode(sorted(parameters.items())) if parameters else "")


CODE_OF_SENTENCE = {sentence: code for code, sentence in PURPOSES.items()
                    if "%(" not in sentence}


NAMES = ("service",)  # parameters that are names, words and spaces; the others are codes


def _group(found: re.Match[str]) -> str:
    name = found.group(1)
    return f"(?P<{name}>.+?)" if name in NAMES else rf"(?P<{name}>[\w-]+)"


@cache
def _sentences_with_parameters() -> list[tuple[re.Pattern[str], str]]:
    """Each sentence with parameters as a pattern whose groups are its parameters."""
    patterns = []
    for code, sentence in PURPOSES.items():
        if "%(" in sentence:
            pattern = re.sub(r"%\\\((\w+)\\\)s", _group, re.escape(sentence))
            patterns.append((re.compile(pattern + r"\Z"), code))
    return patterns


def as_stored(purpose: str) -> str:
    """A sentence of PURPOSES becomes its code with parameters; anything else is kept."""
    if purpose in CODE_OF_SENTENCE:
        return CODE_OF_SENTENCE[purpose]
    if _parsed(purpose) is not None:
        return purpose
    for pattern, code in _sentences_with_parameters():
        found = pattern.match(purpose)
        if found:
            return coded(code, **found.groupdict())
    return purpose


def _parsed(stored: str) -> tuple[str, dict[str, str]] | None:
    code, _, query = stored.partition(SEPARATOR)
    if code not in PURPOSES or " " in stored:
        return None
    return code, dict(parse_qsl(query))


def purpose_parts(stored: str) -> tuple[str, dict[str, str] | None]:
    """What a page translates: a code's sentence and its parameters (a code of ours among
    them as the words it stands for), an older entry's sentence recognised; or what an
    official typed, as typed, with None."""
    parsed = _parsed(as_stored(stored))
    if parsed is None:
        return stored, None
    code, parameters = parsed
    return PURPOSES[code], {name: VALUES.get(value, value) for name, value in parameters.items()}
