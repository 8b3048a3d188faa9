"""The learning platform "Digital Education for All" (Bình dân học vụ số): courses, cohorts,
enrolment, quizzes and completion certificates."""
