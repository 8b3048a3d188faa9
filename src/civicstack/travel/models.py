"""Tables owned by travel: airports, airlines and their flights with manifests, touchpoint
devices, the one-journey face tokens, touchpoint decisions, and urban rail and parking (sites,
passes bound to the eID, trips and parking sessions). People are referred to by personal ID
number, provinces by code; the enrolled face stays in biometrics, only sealed copies live here."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from civicstack.kit.db import Base

TOUCHPOINT_KINDS = ("check_in_kiosk", "security_gate", "boarding_gate", "rail_gate",
                    "parking_gate")


class HasCredential:
    """A machine client's key (an airline's system, a touchpoint device): a public lookup id
    and a keyed hash of the secret (travel/credentials.py), revocable."""

    lookup_id: Mapped[str | None] = mapped_column(String(16), unique=True, nullable=True)
    secret_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Airport(Base):
    __tablename__ = "travel_airport"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(3), unique=True)  # IATA
    name: Mapped[str] = mapped_column(String(200))
    province_code: Mapped[str] = mapped_column(String(2))


class Airline(HasCredential, Base):
    __tablename__ = "travel_airline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(2), unique=True)  # IATA
    name: Mapped[str] = mapped_column(String(200))


class Flight(Base):
    __tablename__ = "travel_flight"
    __table_args__ = (
        UniqueConstraint("airline_id", "number", "departure_date"),
        CheckConstraint("status IN ('scheduled', 'delayed', 'departed', 'cancelled')",
                        name="status_known"),
        CheckConstraint("origin_airport_id <> destination_airport_id", name="two_airports"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    airline_id: Mapped[int] = mapped_column(ForeignKey("travel_airline.id"), index=True)
    number: Mapped[str] = mapped_column(String(8))  # "VN213"
    departure_date: Mapped[date] = mapped_column(Date)  # local date at the origin
    origin_airport_id: Mapped[int] = mapped_column(ForeignKey("travel_airport.id"), index=True)
    destination_airport_id: Mapped[int] = mapped_column(ForeignKey("travel_airport.id"))
    scheduled_departure: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    gate: Mapped[str] = mapped_column(String(8))
    boarding_open: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default="scheduled")


class Booking(Base):
    """One passenger on one flight: the boarding pass's data, and the journey's progress."""

    __tablename__ = "travel_booking"
    __table_args__ = (
        UniqueConstraint("flight_id", "record_locator", name="uq_travel_booking_locator"),
        UniqueConstraint("flight_id", "personal_id_number", name="uq_travel_booking_passenger"),
        CheckConstraint("checked_bags >= 0", name="bags_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flight_id: Mapped[int] = mapped_column(ForeignKey("travel_flight.id"), index=True)
    record_locator: Mapped[str] = mapped_column(String(6), index=True)
    personal_id_number: Mapped[str] = mapped_column(String(12), index=True)
    passenger_name: Mapped[str] = mapped_column(String(200))
    seat: Mapped[str] = mapped_column(String(4))
    checked_bags: Mapped[int] = mapped_column(Integer)
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    bags_dropped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)
    security_passed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                                nullable=True)
    boarded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class UrbanSite(Base):
    """An urban rail station, a railway station or a parking lot, run by one operator, with
    its simple tariff: a base fare plus a fee per started hour."""

    __tablename__ = "travel_urban_site"
    __table_args__ = (
        CheckConstraint("kind IN ('rail_station', 'railway_station', 'parking_lot')",
                        name="kind_known"),
        CheckConstraint("base_fare >= 0 AND hourly_fee >= 0", name="tariff_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    operator: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    province_code: Mapped[str] = mapped_column(String(2))
    base_fare: Mapped[int] = mapped_column(Integer)  # VND
    hourly_fee: Mapped[int] = mapped_column(Integer)  # VND per started hour


class Touchpoint(HasCredential, Base):
    """A device at an airport (kiosk, security or boarding gate) or an urban site (a gate
    facing entry or exit), each with its own credential."""

    __tablename__ = "travel_touchpoint"
    __table_args__ = (
        CheckConstraint("kind IN ('check_in_kiosk', 'security_gate', 'boarding_gate', "
                        "'rail_gate', 'parking_gate')", name="kind_known"),
        CheckConstraint("(airport_id IS NULL) <> (urban_site_id IS NULL)", name="one_place"),
        CheckConstraint("direction IS NULL OR direction IN ('entry', 'exit')",
                        name="direction_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    airport_id: Mapped[int | None] = mapped_column(ForeignKey("travel_airport.id"),
                                                   nullable=True, index=True)
    urban_site_id: Mapped[int | None] = mapped_column(ForeignKey("travel_urban_site.id"),
                                                      nullable=True, index=True)
    gate: Mapped[str | None] = mapped_column(String(8), nullable=True)  # a boarding gate's
    direction: Mapped[str | None] = mapped_column(String(5), nullable=True)  # urban gates'
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


CURRENT_PASS = text("ended_at IS NULL")


class UrbanPass(Base):
    """A rail ticket or parking pass of one operator, bound to the citizen's eID. A person
    holds one current pass per operator and kind, so a gate's gallery holds each face once; an
    expired pass is ended when the next one is taken."""

    __tablename__ = "travel_urban_pass"
    __table_args__ = (
        CheckConstraint("kind IN ('rail', 'parking')", name="kind_known"),
        Index("uq_travel_urban_pass_current", "personal_id_number", "operator", "kind",
              unique=True, sqlite_where=CURRENT_PASS, postgresql_where=CURRENT_PASS),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    personal_id_number: Mapped[str] = mapped_column(String(12), index=True)
    operator: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(7))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[date] = mapped_column(Date)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class UrbanJourney(Base):
    """A trip (rail) or a parking session: opened at an entry gate, closed at an exit gate
    with its fare or fee."""

    __tablename__ = "travel_urban_journey"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pass_id: Mapped[int] = mapped_column(ForeignKey("travel_urban_pass.id"), index=True)
    entry_site_id: Mapped[int] = mapped_column(ForeignKey("travel_urban_site.id"))
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    exit_site_id: Mapped[int | None] = mapped_column(ForeignKey("travel_urban_site.id"),
                                                     nullable=True)
    exited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    fee: Mapped[int | None] = mapped_column(Integer, nullable=True)  # VND, set at exit


class UrbanDailyCount(Base):
    """What the purge keeps of rail trips and parking sessions: how many started on one local
    day at one site, how many were closed at an exit and their fares, with no person or pass."""

    __tablename__ = "travel_urban_daily_count"
    __table_args__ = (
        UniqueConstraint("day", "site_id", name="uq_travel_urban_daily_count_day_site"),
        CheckConstraint("completed <= trips AND fees >= 0", name="counts_consistent"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)  # Vietnam's local day of the entry
    site_id: Mapped[int] = mapped_column(ForeignKey("travel_urban_site.id"))  # entered at
    operator: Mapped[str] = mapped_column(String(100))
    trips: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer)  # closed at an exit gate
    fees: Mapped[int] = mapped_column(Integer)  # VND, of the completed ones


class FaceToken(Base):
    """A copy of the person's enrolled template made for one boarding pass or one urban pass,
    sealed with travel's own key to that owner: it opens for that journey only, and is deleted
    at opt-out and by the purge."""

    __tablename__ = "travel_face_token"
    __table_args__ = (
        CheckConstraint("(booking_id IS NULL) <> (pass_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("travel_booking.id"),
                                                   nullable=True, unique=True)
    pass_id: Mapped[int | None] = mapped_column(ForeignKey("travel_urban_pass.id"),
                                                nullable=True, unique=True)
    sealed_template: Mapped[bytes] = mapped_column(LargeBinary)
    channel: Mapped[str] = mapped_column(String(10))  # portal, kiosk
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TouchpointEvent(Base):
    """Every decision of a touchpoint: pass or fail, why, and the face distance when one was
    measured. The purge cuts the link to the booking and the distance; the row stays as a
    count for the airport's statistics."""

    __tablename__ = "travel_touchpoint_event"
    __table_args__ = (
        CheckConstraint("decision IN ('pass', 'fail')", name="decision_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    touchpoint_id: Mapped[int] = mapped_column(ForeignKey("travel_touchpoint.id"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("travel_booking.id"),
                                                   nullable=True, index=True)
    pass_id: Mapped[int | None] = mapped_column(ForeignKey("travel_urban_pass.id"),
                                                nullable=True, index=True)
    decision: Mapped[str] = mapped_column(String(4))
    reason: Mapped[str] = mapped_column(String(30))
    distance: Mapped[float | None] = mapped_column(Float, nullable=True)
    document_type: Mapped[str | None] = mapped_column(String(10), nullable=True)  # manual
    staff_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
