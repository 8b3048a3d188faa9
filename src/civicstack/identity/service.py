"""The identity domain's public entry point, for other domains and identity's own pages.

Each name is defined in the module that owns it: accounts, codes, registration, signin,
approval, sessions, second_factor; every query is in identity/repository.py.
"""

from __future__ import annotations

from civicstack.identity.accounts import (
    account_by_id,
    account_for_person,
    accounts_by_ids,
    active_account,
    active_accounts_activity,
    now,
)
from civicstack.identity.approval import (
    approve,
    approve_by_face,
    authorise_level_two,
    awaits_approval,
    face_photo,
    lock,
    lock_myself,
    my_audit_trail,
    pending_approval,
    registration_selfie,
    unlock,
)
from civicstack.identity.codes import CodeOutcome
from civicstack.identity.registration import (
    RESET_PURPOSE,
    Registration,
    register,
    request_password_reset,
    resend_phone_code,
    reset_password,
    verify_phone,
)
from civicstack.identity.second_factor import (
    ENROLMENT_WINDOW,
    add_passkey,
    check_may_add_passkey,
    check_may_enrol,
    enrol_totp,
    my_passkeys,
    passkey_enrolment,
    passkey_step_up,
    remove_passkey,
    step_up,
    step_up_with_passkey,
    totp_enrolment,
)
from civicstack.identity.sessions import (
    SignedIn,
    end_session,
    live_sessions,
    session_handle,
    sign_out_everywhere,
    signed_in,
    start_session,
)
from civicstack.identity.signin import FREE_LOGIN_FAILURES, LoginOutcome, LoginResult, sign_in

__all__ = [
    "ENROLMENT_WINDOW",
    "FREE_LOGIN_FAILURES",
    "RESET_PURPOSE",
    "CodeOutcome",
    "LoginOutcome",
    "LoginResult",
    "Registration",
    "SignedIn",
    "account_by_id",
    "account_for_person",
    "accounts_by_ids",
    "active_account",
    "active_accounts_activity",
    "add_passkey",
    "approve",
    "approve_by_face",
    "authorise_level_two",
    "awaits_approval",
    "check_may_add_passkey",
    "check_may_enrol",
    "end_session",
    "enrol_totp",
    "face_photo",
    "live_sessions",
    "lock",
    "lock_myself",
    "my_audit_trail",
    "my_passkeys",
    "now",
    "passkey_enrolment",
    "passkey_step_up",
    "pending_approval",
    "register",
    "registration_selfie",
    "remove_passkey",
    "request_password_reset",
    "resend_phone_code",
    "reset_password",
    "session_handle",
    "sign_in",
    "sign_out_everywhere",
    "signed_in",
    "start_session",
    "step_up",
    "step_up_with_passkey",
    "totp_enrolment",
    "unlock",
    "verify_phone",
]
