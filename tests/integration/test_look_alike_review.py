"""The look-alike face review decides with evidence (issue 21, finding 6): both faces side by
side from the sealed enrolment photos, the distance against the threshold, links to both
register records, a confirmation before the new template is deleted, every look audited; and
the eID approval queue refuses an applicant whose face is held."""

from __future__ import annotations

import io
from datetime import date

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from civicstack.biometrics import service
from civicstack.biometrics.models import DuplicateCase, EnrolmentPhoto, FaceTemplate
from civicstack.biometrics.site import BIOMETRICS
from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.errors import Conflict, Forbidden, NotFound
from civicstack.registry.models import Person
from tests.integration.test_biometrics import run_matches
from tests.integration.test_identity_web import register_an, verify_phone
from tests.support.biometrics import ENROLLING_POLICE, enrolled, face_photo
from tests.support.people import make_person
from tests.support.web import Site

HANOI_REVIEWER = Actor("official", "hanoi-review", Scope.province("01"), Role.POLICE)
JPEG_START = b"\xff\xd8\xff"
CAMERA_MAKE = 0x010F  # an EXIF tag a phone writes, as it writes the place


def with_camera_metadata(photo: str) -> bytes:
    image = Image.open(io.BytesIO(face_photo(photo)))
    exif = Image.Exif()
    exif[CAMERA_MAKE] = "Ward office camera 7"
    tagged = io.BytesIO()
    image.save(tagged, format="JPEG", quality=95, exif=exif)
    return tagged.getvalue()


@pytest.fixture
def binh(site: Site) -> Person:
    """Trần Thị Bình, of Hà Nội, whose ID-card photo shows An's face."""
    with transaction(site.services.session_factory) as session:
        return make_person(session, "Trần Thị Bình", date(1992, 3, 8), phone="0987654321")


def held_case(site: Site, an: Person, binh: Person) -> int:
    """An enrolled first; Bình's card photo is another photo of the same face, so held."""
    enrolled(site, an.personal_id_number, "obama/1.jpg")
    assert enrolled(site, binh.personal_id_number, "obama/2.jpg").held
    with transaction(site.services.session_factory) as session:
        return session.scalars(select(DuplicateCase.id)).one()


def actions(site: Site, action: str) -> list[str]:
    with transaction(site.services.session_factory) as session:
        return list(session.scalars(select(AuditEntry.subject_id).where(
            AuditEntry.action == action).order_by(AuditEntry.seq)))


def test_the_enrolment_photo_is_kept_sealed_and_re_encoded_and_goes_with_its_template(
        site: Site, an: Person, binh: Person) -> None:
    factory, bio = site.services.session_factory, site.services[BIOMETRICS]
    tagged = with_camera_metadata("obama/2.jpg")
    assert Image.open(io.BytesIO(tagged)).getexif()[CAMERA_MAKE] == "Ward office camera 7"
    enrolled(site, an.personal_id_number, "obama/1.jpg")
    with transaction(factory) as session:
        assert service.enrol_from_id_card(session, bio, ENROLLING_POLICE,
                                          binh.personal_id_number, tagged).held
    with transaction(factory) as session:
        case_id = session.scalars(select(DuplicateCase.id)).one()
        sealed = session.scalars(select(EnrolmentPhoto.sealed)).all()
        assert len(sealed) == 2
        assert not any(JPEG_START in photo[:64] for photo in sealed)  # sealed, not a JPEG
        shown = {side: service.case_photo(session, bio, HANOI_REVIEWER, case_id, side)
                 for side in service.Side}
    for side, image in shown.items():
        decoded = Image.open(io.BytesIO(image))
        assert decoded.format == "JPEG", side
        assert max(decoded.size) <= 800, side
        assert not decoded.getexif(), side  # no camera or place left in what is kept
    assert shown[service.Side.NEW] != shown[service.Side.ENROLLED]
    assert actions(site, "biometrics.photo.view") == [binh.personal_id_number,
                                                      an.personal_id_number]

    with transaction(factory) as session:
        service.withdraw_consent(session, bio, an.personal_id_number)
    with transaction(factory) as session:
        assert session.scalar(select(func.count()).select_from(EnrolmentPhoto)) == 1
        assert session.scalar(select(func.count()).select_from(FaceTemplate)) == 1


def test_only_a_reviewer_in_scope_sees_the_faces_and_only_while_the_case_is_open(
        site: Site, an: Person, binh: Person) -> None:
    case_id = held_case(site, an, binh)
    factory, bio = site.services.session_factory, site.services[BIOMETRICS]
    clerk = Actor("official", "clerk", Scope.province("01"), Role.SERVICE_CLERK)
    danang = Actor("official", "danang", Scope.province("48"), Role.POLICE)
    with transaction(factory) as session:
        with pytest.raises(Forbidden):
            service.case_photo(session, bio, clerk, case_id, service.Side.NEW)
        with pytest.raises(NotFound, match="in your scope"):
            service.case_photo(session, bio, danang, case_id, service.Side.ENROLLED)
        service.decide_case(session, bio, HANOI_REVIEWER, case_id, False, "twins, both seen")
    with transaction(factory) as session, pytest.raises(Conflict, match="already been decided"):
        service.case_photo(session, bio, HANOI_REVIEWER, case_id, service.Side.NEW)
    assert actions(site, "biometrics.photo.view") == []


def test_the_review_page_shows_both_faces_the_threshold_and_both_records(
        site: Site, an: Person, binh: Person) -> None:
    case_id = held_case(site, an, binh)
    site.sign_in_as(Role.POLICE, Scope.province("01"))
    page = site.client.get(f"/console/biometrics/cases/{case_id}?lang=en")
    assert page.status_code == 200
    for side in ("new", "enrolled"):
        assert f'src="/console/biometrics/cases/{case_id}/photos/{side}"' in page.text
    with transaction(site.services.session_factory) as session:
        distance = session.get(DuplicateCase, case_id).distance  # type: ignore[union-attr]
    assert f"Distance {distance:.2f} — threshold 0.50: look-alike" in page.text
    for person in (an, binh):
        assert f"/console/registry/persons/{person.personal_id_number}?purpose=" in page.text
    assert actions(site, "biometrics.case.view") == [binh.personal_id_number]
    vietnamese = site.client.get(f"/console/biometrics/cases/{case_id}?lang=vi")
    assert f"{distance:.2f}".replace(".", ",") in vietnamese.text

    photo = site.client.get(f"/console/biometrics/cases/{case_id}/photos/enrolled")
    assert photo.status_code == 200
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["cache-control"] == "no-store"
    assert photo.content.startswith(JPEG_START)
    assert site.client.get(f"/console/biometrics/cases/{case_id}/photos/other").status_code == 422

    site.client.cookies.clear()
    site.sign_in_as(Role.SERVICE_CLERK, Scope.province("01"))
    refused = site.client.get(f"/console/biometrics/cases/{case_id}/photos/new")
    assert refused.status_code == 403
    assert not refused.headers["content-type"].startswith("image/")


def test_deleting_the_new_template_asks_for_confirmation_first(
        site: Site, an: Person, binh: Person) -> None:
    case_id = held_case(site, an, binh)
    site.sign_in_as(Role.POLICE, Scope.province("01"))
    token = site.csrf(f"/console/biometrics/cases/{case_id}")
    asked = site.client.post(f"/console/biometrics/cases/{case_id}?lang=en", data={
        "outcome": "confirm", "reason": "one man, two names", "csrf_token": token})
    assert asked.status_code == 200
    assert "Delete the new face template of Trần Thị Bình?" in asked.text
    assert f'action="/console/biometrics/cases/{case_id}/delete"' in asked.text
    with transaction(site.services.session_factory) as session:
        assert session.get(DuplicateCase, case_id).status == "open"  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(FaceTemplate)) == 2

    too_short = site.client.post(f"/console/biometrics/cases/{case_id}", data={
        "outcome": "confirm", "reason": "no", "csrf_token": token})
    assert too_short.status_code == 422
    assert 'id="reason-error"' in too_short.text

    deleted = site.client.post(f"/console/biometrics/cases/{case_id}/delete",
                               follow_redirects=False,
                               data={"reason": "one man, two names", "csrf_token": token})
    assert deleted.headers["location"] == "/console/biometrics?decided=confirmed"
    with transaction(site.services.session_factory) as session:
        assert session.get(DuplicateCase, case_id).status == "confirmed"  # type: ignore[union-attr]
        assert session.scalars(select(FaceTemplate.personal_id_number)).all() == [
            an.personal_id_number]
    assert actions(site, "biometrics.case.decide") == [binh.personal_id_number]


def applicant_held_as_look_alike(site: Site, an: Person) -> int:
    """An registers for an eID and proves his phone; his ID-card face is then enrolled and
    held as a look-alike of Bình's, enrolled before. The open case's id."""
    with transaction(site.services.session_factory) as session:
        other = make_person(session, "Trần Thị Bình", date(1992, 3, 8), phone="0987654321")
    enrolled(site, other.personal_id_number, "obama/1.jpg")
    register_an(site, an)
    verify_phone(site)
    assert enrolled(site, an.personal_id_number, "obama/2.jpg").held
    site.client.cookies.clear()
    site.sign_in_as(Role.POLICE, Scope.province("01"))
    with transaction(site.services.session_factory) as session:
        return session.scalars(select(DuplicateCase.id)).one()


def approve(site: Site, an: Person) -> httpx.Response:
    return site.client.post(f"/console/accounts/{an.personal_id_number}/approve?lang=en",
                            follow_redirects=False,
                            data={"reason": "identity checked at the counter",
                                  "csrf_token": site.csrf("/console/accounts")})


def test_the_approval_queue_marks_an_applicant_whose_face_is_held(
        site: Site, an: Person) -> None:
    case_id = applicant_held_as_look_alike(site, an)
    queue = site.client.get("/console/accounts?lang=en")
    assert "Face held as a look-alike" in queue.text
    assert f'href="/console/biometrics/cases/{case_id}"' in queue.text
    assert f'action="/console/accounts/{an.personal_id_number}/approve"' not in queue.text


def test_approval_is_refused_while_the_applicants_face_is_held(site: Site, an: Person) -> None:
    """In the trial two applicants held as look-alikes were approved from the queue."""
    case_id = applicant_held_as_look_alike(site, an)
    refused = approve(site, an)
    assert refused.status_code == 409
    assert "held as a look-alike" in refused.text
    assert actions(site, "identity.account.approve") == []

    with transaction(site.services.session_factory) as session:
        service.decide_case(session, site.services[BIOMETRICS], HANOI_REVIEWER, case_id, False,
                            "twins, both seen with their birth certificates")
    assert approve(site, an).status_code == 303


def test_a_level_one_selfie_held_as_a_look_alike_is_shown_and_blocks_approval(
        site: Site, an: Person, binh: Person) -> None:
    """The trial's case: no card face, so the selfie itself is enrolled, and it is Bình's."""
    enrolled(site, binh.personal_id_number, "obama/1.jpg")
    register_an(site, an, face_photo("obama/2.jpg"), face_consent="yes")
    verify_phone(site)
    assert run_matches(site) == {an.personal_id_number: service.MatchOutcome.NO_CARD_FACE}
    with transaction(site.services.session_factory) as session:
        case_id = session.scalars(select(DuplicateCase.id)).one()
        selfie = service.case_photo(session, site.services[BIOMETRICS], HANOI_REVIEWER,
                                    case_id, service.Side.NEW)
    assert Image.open(io.BytesIO(selfie)).format == "JPEG"  # the PNG upload, re-encoded
    site.client.cookies.clear()
    site.sign_in_as(Role.POLICE, Scope.province("01"))
    assert approve(site, an).status_code == 409


def test_a_face_enrolled_before_photos_were_kept_is_said_to_have_none(
        site: Site, an: Person, binh: Person) -> None:
    case_id = held_case(site, an, binh)
    with transaction(site.services.session_factory) as session:
        template_id = session.scalars(select(FaceTemplate.id).where(
            FaceTemplate.personal_id_number == an.personal_id_number)).one()
        session.delete(session.get(EnrolmentPhoto, template_id))
    site.sign_in_as(Role.POLICE, Scope.province("01"))
    page = site.client.get(f"/console/biometrics/cases/{case_id}?lang=en")
    assert f'src="/console/biometrics/cases/{case_id}/photos/new"' in page.text
    assert f'src="/console/biometrics/cases/{case_id}/photos/enrolled"' not in page.text
    assert "No photo is kept of this face" in page.text
    missing = site.client.get(f"/console/biometrics/cases/{case_id}/photos/enrolled")
    assert missing.status_code == 404


def test_the_earlier_face_of_a_person_outside_the_officials_scope_is_not_shown(
        site: Site, binh: Person) -> None:
    with transaction(site.services.session_factory) as session:
        saigon = make_person(session, "Lê Văn Cường", date(1985, 1, 2), province_code="79",
                             legacy_province_code="79")
    enrolled(site, saigon.personal_id_number, "obama/1.jpg")
    assert enrolled(site, binh.personal_id_number, "obama/2.jpg").held
    with transaction(site.services.session_factory) as session:
        case_id = session.scalars(select(DuplicateCase.id)).one()
    site.sign_in_as(Role.POLICE, Scope.province("01"))
    page = site.client.get(f"/console/biometrics/cases/{case_id}?lang=en")
    assert f'src="/console/biometrics/cases/{case_id}/photos/new"' in page.text
    assert f'src="/console/biometrics/cases/{case_id}/photos/enrolled"' not in page.text
    assert "This person is outside your scope" in page.text
    assert f"/console/registry/persons/{saigon.personal_id_number}" not in page.text
    assert site.client.get(
        f"/console/biometrics/cases/{case_id}/photos/enrolled").status_code == 404
