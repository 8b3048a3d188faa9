"""Face biometrics: the face pipeline, encrypted templates, enrolment with 1:N de-duplication,
1:1 verification and challenge-response liveness."""
