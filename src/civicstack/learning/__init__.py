"""The learning platform "Digital Education for All" (Bình dân học vụ số): courses, cohorts,
enrolment, quizzes and completion certificates."""

from civicstack.kit.installing import Installer


def install(installer: Installer) -> None:
    from civicstack.learning import cli, console_web, web

    installer.router(web.router)
    installer.router(console_web.router)
    installer.command_group(cli.learning_app, "learning")
