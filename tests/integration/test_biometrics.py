"""Face enrolment from the ID card, 1:N de-duplication held for an official, 1:1 verification,
consent withdrawal, the persisted gallery, and the level-1 selfie matched against the card face.
Real photos (tests/support/face_images.py): one folder is one person."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pytest
from sqlalchemy import select

from civicstack.biometrics import service
from civicstack.biometrics.models import DuplicateCase, FaceTemplate
from civicstack.biometrics.site import BIOMETRICS, biometrics_site
from civicstack.identity.photos import PHOTO_VAULT
from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.errors import Conflict, Forbidden, Invalid, NotFound
from civicstack.kit.outbox import OutboxMessage
from civicstack.registry.models import Person
from tests.integration.test_identity_web import (
    approved_and_signed_in,
    register_an,
    verify_phone,
)
from tests.support.biometrics import ENROLLING_POLICE, enrolled, face_photo, reading
from tests.support.people import make_person
from tests.support.web import Site

HANOI_REVIEWER = Actor("official", "hanoi-review", Scope.province("01"), Role.POLICE)


@pytest.fixture
def binh(site: Site) -> Person:
    """Trần Thị Bình, also of Hà Nội: a second person, to look like An or not."""
    with transaction(site.services.session_factory) as session:
        return make_person(session, "Trần Thị Bình", date(1992, 3, 8), phone="0987654321")


def verify(site: Site, person: Person, photo: str) -> service.Verification:
    with transaction(site.services.session_factory) as session:
        return service.verify(session, site.services[BIOMETRICS], ENROLLING_POLICE,
                              person.personal_id_number, face_photo(photo), "boarding check")


def actions_about(site: Site, person: Person) -> list[str]:
    with transaction(site.services.session_factory) as session:
        return list(session.scalars(select(AuditEntry.action).where(
            AuditEntry.subject_id == person.personal_id_number).order_by(AuditEntry.seq)))


def test_the_card_face_is_enrolled_sealed_and_verifies_the_same_person_only(
        site: Site, an: Person) -> None:
    enrolment = enrolled(site, an.personal_id_number, "obama/1.jpg")
    assert not enrolment.held

    genuine = verify(site, an, "obama/2.jpg")
    assert genuine.decision == service.Decision.MATCH
    assert genuine.distance < site.services[BIOMETRICS].threshold < 0.6
    assert 0.5 < genuine.score <= 1
    impostor = verify(site, an, "biden/1.jpg")
    assert impostor.decision == service.Decision.NO_MATCH
    assert impostor.score < 0.3

    with transaction(site.services.session_factory) as session:
        stored = session.get(FaceTemplate, enrolment.template_id)
        assert stored is not None
        raw = reading("obama/1.jpg").embedding.astype(np.float32).tobytes()
        assert raw[:16] not in stored.sealed  # AES-GCM, not the vector
    assert actions_about(site, an).count("biometrics.match") == 2  # every match is logged


def test_a_second_person_with_the_same_face_is_held_for_an_official(
        site: Site, an: Person, binh: Person) -> None:
    enrolled(site, an.personal_id_number, "obama/1.jpg")
    second = enrolled(site, binh.personal_id_number, "obama/3.jpg")
    assert second.held
    assert second.resembles == (an.personal_id_number,)
    with pytest.raises(Conflict, match="held"):
        verify(site, binh, "obama/3.jpg")

    factory, bio = site.services.session_factory, site.services[BIOMETRICS]
    with transaction(factory) as session:
        [(case, newcomer, look_alike)] = service.open_cases(session, HANOI_REVIEWER)
        assert (newcomer, look_alike) == ("Trần Thị Bình", "Nguyễn Văn An")
        service.decide_case(session, bio, HANOI_REVIEWER, case.id, same_person_fraud=True,
                            reason="the same man under two names")
    with transaction(factory) as session:
        assert session.scalars(select(FaceTemplate).where(
            FaceTemplate.personal_id_number == binh.personal_id_number)).first() is None
        assert service.open_cases(session, HANOI_REVIEWER) == []
        with pytest.raises(Conflict, match="already been decided"):
            service.decide_case(session, bio, HANOI_REVIEWER, case.id, False, "twins after all")


def test_look_alikes_cleared_by_an_official_are_released(
        site: Site, an: Person, binh: Person) -> None:
    enrolled(site, an.personal_id_number, "obama/1.jpg")
    enrolled(site, binh.personal_id_number, "obama/2.jpg")
    factory, bio = site.services.session_factory, site.services[BIOMETRICS]
    with transaction(factory) as session:
        [(case, _, _)] = service.open_cases(session, HANOI_REVIEWER)
        service.decide_case(session, bio, HANOI_REVIEWER, case.id, same_person_fraud=False,
                            reason="twins, both seen with their birth certificates")
    assert verify(site, binh, "obama/2.jpg").decision == service.Decision.MATCH


def test_unrelated_faces_open_no_case(site: Site, an: Person, binh: Person) -> None:
    enrolled(site, an.personal_id_number, "obama/1.jpg")
    assert not enrolled(site, binh.personal_id_number, "rose_leslie/1.jpg").held


def test_reviewing_cases_needs_the_permission_and_the_scope(
        site: Site, an: Person, binh: Person) -> None:
    enrolled(site, an.personal_id_number, "obama/1.jpg")
    enrolled(site, binh.personal_id_number, "obama/3.jpg")
    factory, bio = site.services.session_factory, site.services[BIOMETRICS]
    clerk = Actor("official", "clerk", role=Role.SERVICE_CLERK)
    danang = Actor("official", "danang", Scope.province("48"), Role.POLICE)
    with transaction(factory) as session:
        with pytest.raises(Forbidden):
            service.open_cases(session, clerk)
        assert service.open_cases(session, danang) == []
        case_id = session.scalars(select(DuplicateCase.id)).one()
    with transaction(factory) as session, pytest.raises(NotFound, match="in your scope"):
        service.decide_case(session, bio, danang, case_id, False, "not mine to decide")


def test_unusable_photos_are_refused_with_the_reason_and_nothing_is_stored(
        site: Site, an: Person) -> None:
    with pytest.raises(Invalid, match="more than one face"):
        enrolled(site, an.personal_id_number, "multi/two_people.jpg")
    with pytest.raises(Invalid, match="could not be read"), \
            transaction(site.services.session_factory) as session:
        service.enrol_from_id_card(session, site.services[BIOMETRICS], ENROLLING_POLICE,
                                   an.personal_id_number, b"GIF89a not a face")
    with transaction(site.services.session_factory) as session:
        assert session.scalars(select(FaceTemplate)).first() is None
    with pytest.raises(NotFound):
        verify(site, an, "obama/2.jpg")


def test_enrolment_needs_the_permission_and_the_scope(site: Site, an: Person) -> None:
    for stranger, refusal in ((Actor("official", "clerk", role=Role.SERVICE_CLERK), Forbidden),
                              (Actor("official", "danang", Scope.province("48"), Role.POLICE),
                               NotFound)):  # outside the scope: as if nobody had the number
        with transaction(site.services.session_factory) as session, pytest.raises(refusal):
            service.enrol_from_id_card(session, site.services[BIOMETRICS], stranger,
                                       an.personal_id_number, face_photo("obama/1.jpg"))


def test_withdrawing_consent_deletes_the_template_and_its_gallery_entry(
        site: Site, an: Person) -> None:
    enrolment = enrolled(site, an.personal_id_number, "obama/1.jpg")
    bio = site.services[BIOMETRICS]
    assert enrolment.template_id in bio.gallery.ids
    with transaction(site.services.session_factory) as session:
        service.withdraw_consent(session, bio, an.personal_id_number)
    assert enrolment.template_id not in bio.gallery.ids
    with pytest.raises(NotFound):
        verify(site, an, "obama/2.jpg")
    with transaction(site.services.session_factory) as session, pytest.raises(Conflict):
        service.withdraw_consent(session, bio, an.personal_id_number)
    assert "biometrics.consent.withdraw" in actions_about(site, an)


def test_the_gallery_is_persisted_and_rebuilt_from_the_database(
        site: Site, an: Person, binh: Person) -> None:
    first = enrolled(site, an.personal_id_number, "obama/1.jpg")
    second = enrolled(site, binh.personal_id_number, "rose_leslie/1.jpg")
    settings = site.services.settings
    factory = site.services.session_factory
    site.services[BIOMETRICS].gallery.save()

    restarted = biometrics_site(settings, site.services.secrets)
    assert restarted.gallery.ids == {first.template_id, second.template_id}
    (settings.data_dir / "biometrics" / "gallery.faiss").write_bytes(b"torn")
    lost = biometrics_site(settings, site.services.secrets)
    assert lost.gallery.ids == set()
    with transaction(factory) as session:
        service.sync_gallery(session, lost)
        assert lost.gallery.ids == {first.template_id, second.template_id}
        assert service.rebuild_gallery(session, lost) == 2
    [nearest] = lost.gallery.search(reading("rose_leslie/2.jpg").embedding, 1)
    assert nearest.template_id == second.template_id
    assert nearest.distance < 0.5


def test_a_level_one_selfie_matching_the_card_face_approves_the_account(
        site: Site, an: Person) -> None:
    enrolled(site, an.personal_id_number, "obama/1.jpg")
    register_an(site, an, face_photo("obama/2.jpg"))
    verify_phone(site)
    assert run_matches(site) == {an.personal_id_number: service.MatchOutcome.APPROVED}
    assert run_matches(site) == {}  # the queue is empty
    assert "identity.account.approve" in actions_about(site, an)


def test_a_selfie_of_someone_else_leaves_the_account_for_an_official(
        site: Site, an: Person) -> None:
    enrolled(site, an.personal_id_number, "obama/1.jpg")
    register_an(site, an, face_photo("biden/2.jpg"))
    verify_phone(site)
    assert run_matches(site) == {an.personal_id_number: service.MatchOutcome.NO_MATCH}
    assert "identity.account.approve" not in actions_about(site, an)


def test_without_a_card_face_the_selfie_is_enrolled_and_an_official_approves(
        site: Site, an: Person) -> None:
    register_an(site, an, face_photo("kit_harington/2.jpg"), face_consent="yes")
    verify_phone(site)
    assert run_matches(site) == {an.personal_id_number: service.MatchOutcome.NO_CARD_FACE}
    with transaction(site.services.session_factory) as session:
        template = service.enrolment_of(session, an.personal_id_number)
        assert template is not None
        assert template.source == "selfie"
    assert "identity.account.approve" not in actions_about(site, an)


def run_matches(site: Site) -> dict[str, service.MatchOutcome]:
    return service.run_registration_matches(site.services.session_factory,
                                            site.services[BIOMETRICS], site.services[PHOTO_VAULT])


def test_registration_asks_for_face_consent_with_an_unticked_box(site: Site) -> None:
    page = site.client.get("/account/register?lang=vi").text
    box = re.search(r'<input type="checkbox" name="face_consent"[^>]*>', page)
    assert box
    assert "checked" not in box.group(0)
    assert "rút lại" in page  # withdrawal is explained, in the page's language


def test_without_consent_no_template_is_made_and_no_consent_is_written(
        site: Site, an: Person) -> None:
    """Issue 19: the history said "You consented" and a gate template was made unasked."""
    register_an(site, an, face_photo("kit_harington/2.jpg"))
    verify_phone(site)
    assert run_matches(site) == {}
    with transaction(site.services.session_factory) as session:
        assert service.enrolment_of(session, an.personal_id_number) is None
        assert not service.has_consent(session, an.personal_id_number)
    assert "biometrics.consent.grant" not in actions_about(site, an)


def test_consent_is_given_later_and_withdrawn_from_the_account(site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    page = site.client.get("/account/face").text
    assert 'id="give-consent"' in page
    given = site.client.post("/account/face/consent", follow_redirects=False,
                             data={"csrf_token": site.csrf("/account/face")})
    assert given.status_code == 303
    with transaction(site.services.session_factory) as session:
        assert service.has_consent(session, an.personal_id_number)
    assert 'action="/account/face/withdraw"' in site.client.get("/account/face").text
    withdrawn = site.client.post("/account/face/withdraw", follow_redirects=False,
                                 data={"csrf_token": site.csrf("/account/face")})
    assert withdrawn.status_code == 303
    with transaction(site.services.session_factory) as session:
        assert not service.has_consent(session, an.personal_id_number)
    assert actions_about(site, an).count("biometrics.consent.grant") == 1


def test_an_account_approved_by_the_face_match_is_told_so_and_no_longer_told_to_wait(
        site: Site, an: Person) -> None:
    """Issue 19: approved 2.6 s after the phone code, the page still said "waiting"."""
    enrolled(site, an.personal_id_number, "obama/1.jpg")
    register_an(site, an, face_photo("obama/2.jpg"))
    verify_phone(site)
    done = "/account/verify-phone/done?lang=en"
    assert "waiting for approval" in site.client.get(done).text
    assert run_matches(site) == {an.personal_id_number: service.MatchOutcome.APPROVED}
    page = site.client.get(done).text
    assert "waiting for approval" not in page
    assert "Your eID account is approved" in page
    assert "da duoc phe duyet" in sms_to(site, "0912345678")


def sms_to(site: Site, phone: str) -> str:
    """Every SMS queued for this phone, as the outbox holds it."""
    with transaction(site.services.session_factory) as session:
        return "\n".join(session.scalars(select(OutboxMessage.body).where(
            OutboxMessage.recipient == phone)))
