"""The biometrics surfaces: the agency API (enrol, 1:1 verify, never a template), the citizen's
face page with consent withdrawal, and the officials' enrolment and look-alike review."""

from __future__ import annotations

from datetime import date

import httpx

from civicstack.kit import apikeys
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from tests.integration.test_identity_web import approved_and_signed_in
from tests.support.api import assert_problem, bearer
from tests.support.biometrics import enrolled, face_photo
from tests.support.face_images import mirrored
from tests.support.people import make_person
from tests.support.web import Site


def key_for(site: Site, role: Role, name: str = "card-system") -> dict[str, str]:
    with transaction(site.services.session_factory) as session:
        issued = apikeys.create_key(session, site.services.pepper, name, role)
    return bearer(issued.token)


def post_image(site: Site, path: str, headers: dict[str, str], photo: bytes,
               **form: str) -> object:
    return site.client.post(path, headers=headers, data=form,
                            files={"image": ("face.jpg", photo, "image/jpeg")})


def test_the_api_enrols_and_verifies_and_never_returns_a_template(site: Site, an: Person) -> None:
    police = key_for(site, Role.POLICE)
    enrolment = site.client.post("/api/v1/biometrics/enrolments", headers=police,
                                 data={"personal_id_number": an.personal_id_number},
                                 files={"image": ("card.jpg", face_photo("obama/1.jpg"))})
    assert enrolment.status_code == 201
    assert enrolment.json() == {"personal_id_number": an.personal_id_number, "status": "active"}

    answers = {}
    for photo in ("obama/2.jpg", "rose_leslie/1.jpg"):
        response = site.client.post("/api/v1/biometrics/verifications", headers=police, data={
            "personal_id_number": an.personal_id_number, "purpose": "boarding check"},
            files={"image": ("probe.jpg", face_photo(photo))})
        assert response.status_code == 200
        assert set(response.json()) == {"personal_id_number", "decision", "score", "distance",
                                        "threshold"}
        answers[photo] = response.json()["decision"]
    assert answers == {"obama/2.jpg": "match", "rose_leslie/1.jpg": "no_match"}


def test_the_api_refuses_bad_images_strangers_and_the_unenrolled(site: Site, an: Person) -> None:
    police = key_for(site, Role.POLICE)
    verify = {"personal_id_number": an.personal_id_number, "purpose": "boarding check"}
    unenrolled = site.client.post("/api/v1/biometrics/verifications", headers=police, data=verify,
                                  files={"image": ("p.jpg", face_photo("obama/2.jpg"))})
    assert_problem(unenrolled, 404)
    enrolled(site, an.personal_id_number)
    two_faces = site.client.post("/api/v1/biometrics/verifications", headers=police, data=verify,
                                 files={"image": ("p.jpg", face_photo("multi/two_people.jpg"))})
    assert "more than one face" in str(assert_problem(two_faces, 422))
    garbage = site.client.post("/api/v1/biometrics/verifications", headers=police, data=verify,
                               files={"image": ("p.jpg", b"\xff\xd8\xff broken")})
    assert_problem(garbage, 422)
    clerk = site.client.post("/api/v1/biometrics/verifications",
                             headers=key_for(site, Role.SERVICE_CLERK, "clerk"), data=verify,
                             files={"image": ("p.jpg", face_photo("obama/2.jpg"))})
    assert_problem(clerk, 403)
    nobody = site.client.post("/api/v1/biometrics/verifications", data=verify,
                              files={"image": ("p.jpg", face_photo("obama/2.jpg"))})
    assert_problem(nobody, 401)


def test_the_citizen_sees_each_use_of_their_face_and_can_withdraw(site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    enrolled(site, an.personal_id_number)
    page = site.client.get("/account/face?lang=en")
    assert "your ID-card photo" in page.text
    assert "Your face was enrolled" in page.text
    token = site.csrf("/account/face")
    response = site.client.post("/account/face/withdraw", follow_redirects=False,
                                data={"csrf_token": token})
    assert response.status_code == 303
    after = site.client.get("/account/face?lang=en")
    assert "No face is enrolled for you" in after.text
    assert "template was deleted" in after.text
    again = site.client.post("/account/face/withdraw", data={"csrf_token": token})
    assert again.status_code == 409
    forged = site.client.post("/account/face/withdraw", data={"csrf_token": "forged"})
    assert forged.status_code == 403


def test_police_enrol_from_the_card_photo_and_decide_a_look_alike(site: Site, an: Person) -> None:
    with transaction(site.services.session_factory) as session:
        binh = make_person(session, "Trần Thị Bình", date(1992, 3, 8), phone="0987654321")
    enrolled(site, an.personal_id_number, "obama/1.jpg")
    site.sign_in_as(Role.POLICE, Scope.province("01"))
    token = site.csrf("/console/biometrics")
    two_faces = site.client.post("/console/biometrics/enrol", data={
        "personal_id_number": binh.personal_id_number, "csrf_token": token},
        files={"photo": ("card.jpg", face_photo("multi/two_people.jpg"), "image/jpeg")})
    assert two_faces.status_code == 422
    assert 'id="photo-error"' in two_faces.text  # the reason, next to the photo field
    done = site.client.post("/console/biometrics/enrol", follow_redirects=False, data={
        "personal_id_number": binh.personal_id_number, "csrf_token": token},
        files={"photo": ("card.jpg", face_photo("obama/3.jpg"), "image/jpeg")})
    assert done.headers["location"] == "/console/biometrics?enrolled=held"
    page = site.client.get("/console/biometrics?lang=en")
    assert "Trần Thị Bình" in page.text
    case_id = page.text.split('id="case-')[1].split('"')[0]
    short = site.client.post(f"/console/biometrics/cases/{case_id}", data={
        "outcome": "clear", "reason": "ok", "csrf_token": token})
    assert short.status_code == 422
    decided = site.client.post(f"/console/biometrics/cases/{case_id}", follow_redirects=False,
                               data={"outcome": "clear", "reason": "twins, checked birth records",
                                     "csrf_token": token})
    assert decided.status_code == 303
    assert "No case is waiting" in site.client.get("/console/biometrics?lang=en").text


def obama_in(pose: str) -> tuple[str, bytes, str]:
    """The labelled photos standing in for a camera: obama/2 is turned to his right, its
    mirror copy to his left (tests/unit/test_liveness.py)."""
    frames = {"look_straight": face_photo("obama/1.jpg"), "turn_right": face_photo("obama/2.jpg"),
              "turn_left": mirrored("obama/2.jpg")}
    return ("frame.jpg", frames[pose], "image/jpeg")


def answer(site: Site, key: dict[str, str], challenge: dict[str, object], an: Person,
           frames: list[tuple[str, bytes, str]]) -> httpx.Response:
    return site.client.post("/api/v1/biometrics/live-verifications", headers=key, data={
        "challenge_id": challenge["challenge_id"], "personal_id_number": an.personal_id_number,
        "purpose": "remote identity check"}, files=[("frames", frame) for frame in frames])


def test_a_live_verification_answers_the_challenge_then_matches_once(
        site: Site, an: Person) -> None:
    enrolled(site, an.personal_id_number, "obama/3.jpg")
    police = key_for(site, Role.POLICE)
    challenge = site.client.post("/api/v1/biometrics/liveness-challenges", headers=police).json()
    assert 2 <= len(challenge["steps"]) <= 3

    live = answer(site, police, challenge, an, [obama_in(p) for p in challenge["steps"]])
    assert live.status_code == 200
    assert live.json()["liveness"] == {"passed": True, "failure": None, "step": None,
                                       "reason": None}
    assert live.json()["verification"]["decision"] == "match"
    replayed = answer(site, police, challenge, an, [obama_in(p) for p in challenge["steps"]])
    assert "spent or expired" in str(assert_problem(replayed, 409))


def test_a_still_photo_fails_the_challenge_and_is_not_matched(site: Site, an: Person) -> None:
    enrolled(site, an.personal_id_number, "obama/3.jpg")
    police = key_for(site, Role.POLICE)
    challenge = site.client.post("/api/v1/biometrics/liveness-challenges", headers=police).json()
    still = [obama_in("look_straight")] * len(challenge["steps"])
    refused = answer(site, police, challenge, an, still).json()
    assert refused["liveness"]["passed"] is False
    assert refused["liveness"]["failure"] == "wrong_pose"
    assert refused["verification"] is None
    other = site.client.post("/api/v1/biometrics/liveness-challenges",
                             headers=key_for(site, Role.POLICE, "another-system")).json()
    assert_problem(answer(site, police, other, an, still), 403)
    assert_problem(answer(site, police, {"challenge_id": "nope"}, an, still), 404)
