"""`civicstack biometrics ...`: enrol ID-card faces in bulk, rebuild the 1:N index from the
database, and run the level-1 registration matches by hand (the app runs them itself)."""

from __future__ import annotations

import csv
from pathlib import Path

import typer

from civicstack.biometrics import service
from civicstack.biometrics.demo import seed_faces
from civicstack.biometrics.site import biometrics_site
from civicstack.config import get_settings
from civicstack.identity.photos import PhotoVault
from civicstack.kit.cli_support import (
    CLI_ACTOR,
    cli_transaction,
    demo_population,
    reports_domain_errors,
    secret_store,
    session_factory,
)
from civicstack.kit.private_files import private_file

biometrics_app = typer.Typer(help="Face biometrics: enrolment, the 1:N index, level-1 matches.",
                             no_args_is_help=True)


@biometrics_app.command("enrol-card")
@reports_domain_errors
def enrol_card(personal_id_number: str, photo: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="The ID-card photo (JPEG or PNG).")) -> None:
    """Enrol the face of a person's ID-card photo (consent given at the card counter)."""
    site = biometrics_site(get_settings(), secret_store())
    with cli_transaction() as session:
        done = service.enrol_from_id_card(session, site, CLI_ACTOR, personal_id_number,
                                          photo.read_bytes())
    site.gallery.save()
    held = " (held: it resembles another person's face; see /console/biometrics)"
    typer.echo(f"enrolled {personal_id_number}{held if done.held else ''}")


@biometrics_app.command("rebuild-index")
def rebuild_index() -> None:
    """Rebuild the persisted FAISS index from the encrypted templates in the database."""
    site = biometrics_site(get_settings(), secret_store())
    with cli_transaction() as session:
        count = service.rebuild_gallery(session, site)
    typer.echo(f"index rebuilt: {count} templates")


@biometrics_app.command("match-registrations")
def match_registrations() -> None:
    """Compare queued level-1 selfies with the ID-card faces now."""
    secrets = secret_store()
    outcomes = service.run_registration_matches(
        session_factory(), biometrics_site(get_settings(), secrets), PhotoVault.of(secrets))
    for personal_id_number, outcome in outcomes.items():
        typer.echo(f"{personal_id_number}: {outcome.value}")
    typer.echo(f"{len(outcomes)} registrations matched")


@biometrics_app.command("demo")
def demo(population: Path | None = typer.Option(
        None, help="The demo population CSV (default: the newest one `demo seed` wrote)."),
         # Relative to where the command runs: beside the checkout, for `make demo`.
         faces: Path = typer.Option(Path("../shared/data/faces"),
                                    help="Labelled face photos, one folder per person; they "
                                         "are not part of the repository (without them the "
                                         "demo enrols no faces).")) -> None:
    """Enrol the labelled photos as the ID-card faces of a few demo adults."""
    settings = get_settings()
    if not faces.is_dir():
        typer.echo(f"no face photos at {faces}: demo faces skipped")
        return
    seeded = seed_faces(session_factory(), biometrics_site(settings, secret_store()),
                        demo_population(population), faces)
    listed = settings.data_dir / "demo-faces.csv"
    with private_file(listed).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["personal_id_number", "full_name", "enrolled_photo", "try_photos"])
        writer.writerows([f.personal_id_number, f.full_name, f.enrolled_photo,
                          " ".join(str(p) for p in f.other_photos)] for f in seeded)
    typer.echo(f"{len(seeded)} demo faces enrolled (who, and photos to try: {listed})")
