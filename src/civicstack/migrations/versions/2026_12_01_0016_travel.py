"""travel: airports, airlines, flights and bookings, touchpoints, face-token copies, decisions,
urban sites, passes and journeys

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('travel_airline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('lookup_id', sa.String(length=16), nullable=True),
    sa.Column('secret_digest', sa.String(length=64), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_travel_airline')),
    sa.UniqueConstraint('code', name=op.f('uq_travel_airline_code')),
    sa.UniqueConstraint('lookup_id', name=op.f('uq_travel_airline_lookup_id'))
    )
    op.create_table('travel_airport',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_travel_airport')),
    sa.UniqueConstraint('code', name=op.f('uq_travel_airport_code'))
    )
    op.create_table('travel_urban_pass',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('personal_id_number', sa.String(length=12), nullable=False),
    sa.Column('operator', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=7), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.CheckConstraint("kind IN ('rail', 'parking')", name=op.f('ck_travel_urban_pass_kind_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_travel_urban_pass'))
    )
    with op.batch_alter_table('travel_urban_pass', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_travel_urban_pass_personal_id_number'), ['personal_id_number'], unique=False)

    op.create_table('travel_urban_site',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('operator', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=False),
    sa.Column('base_fare', sa.Integer(), nullable=False),
    sa.Column('hourly_fee', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('rail_station', 'railway_station', 'parking_lot')", name=op.f('ck_travel_urban_site_kind_known')),
    sa.CheckConstraint('base_fare >= 0 AND hourly_fee >= 0', name=op.f('ck_travel_urban_site_tariff_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_travel_urban_site')),
    sa.UniqueConstraint('code', name=op.f('uq_travel_urban_site_code'))
    )
    with op.batch_alter_table('travel_urban_site', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_travel_urban_site_operator'), ['operator'], unique=False)

    op.create_table('travel_flight',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('airline_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=8), nullable=False),
    sa.Column('departure_date', sa.Date(), nullable=False),
    sa.Column('origin_airport_id', sa.Integer(), nullable=False),
    sa.Column('destination_airport_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_departure', sa.DateTime(timezone=True), nullable=False),
    sa.Column('gate', sa.String(length=8), nullable=False),
    sa.Column('boarding_open', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.CheckConstraint("status IN ('scheduled', 'delayed', 'departed', 'cancelled')", name=op.f('ck_travel_flight_status_known')),
    sa.CheckConstraint('origin_airport_id <> destination_airport_id', name=op.f('ck_travel_flight_two_airports')),
    sa.ForeignKeyConstraint(['airline_id'], ['travel_airline.id'], name=op.f('fk_travel_flight_airline_id_travel_airline')),
    sa.ForeignKeyConstraint(['destination_airport_id'], ['travel_airport.id'], name=op.f('fk_travel_flight_destination_airport_id_travel_airport')),
    sa.ForeignKeyConstraint(['origin_airport_id'], ['travel_airport.id'], name=op.f('fk_travel_flight_origin_airport_id_travel_airport')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_travel_flight')),
    sa.UniqueConstraint('airline_id', 'number', 'departure_date', name=op.f('uq_travel_flight_airline_id'))
    )
    with op.batch_alter_table('travel_flight', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_travel_flight_airline_id'), ['airline_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_travel_flight_origin_airport_id'), ['origin_airport_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_travel_flight_scheduled_departure'), ['scheduled_departure'], unique=False)

    op.create_table('travel_touchpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('airport_id', sa.Integer(), nullable=True),
    sa.Column('urban_site_id', sa.Integer(), nullable=True),
    sa.Column('gate', sa.String(length=8), nullable=True),
    sa.Column('direction', sa.String(length=5), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lookup_id', sa.String(length=16), nullable=True),
    sa.Column('secret_digest', sa.String(length=64), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("direction IS NULL OR direction IN ('entry', 'exit')", name=op.f('ck_travel_touchpoint_direction_known')),
    sa.CheckConstraint("kind IN ('check_in_kiosk', 'security_gate', 'boarding_gate', 'rail_gate', 'parking_gate')", name=op.f('ck_travel_touchpoint_kind_known')),
    sa.CheckConstraint('(airport_id IS NULL) <> (urban_site_id IS NULL)', name=op.f('ck_travel_touchpoint_one_place')),
    sa.ForeignKeyConstraint(['airport_id'], ['travel_airport.id'], name=op.f('fk_travel_touchpoint_airport_id_travel_airport')),
    sa.ForeignKeyConstraint(['urban_site_id'], ['travel_urban_site.id'], name=op.f('fk_travel_touchpoint_urban_site_id_travel_urban_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_travel_touchpoint')),
    sa.UniqueConstraint('lookup_id', name=op.f('uq_travel_touchpoint_lookup_id')),
    sa.UniqueConstraint('name', name=op.f('uq_travel_touchpoint_name'))
    )
    with op.batch_alter_table('travel_touchpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_travel_touchpoint_airport_id'), ['airport_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_travel_touchpoint_urban_site_id'), ['urban_site_id'], unique=False)

    op.create_table('travel_urban_journey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pass_id', sa.Integer(), nullable=False),
    sa.Column('entry_site_id', sa.Integer(), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('exit_site_id', sa.Integer(), nullable=True),
    sa.Column('exited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fee', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entry_site_id'], ['travel_urban_site.id'], name=op.f('fk_travel_urban_journey_entry_site_id_travel_urban_site')),
    sa.ForeignKeyConstraint(['exit_site_id'], ['travel_urban_site.id'], name=op.f('fk_travel_urban_journey_exit_site_id_travel_urban_site')),
    sa.ForeignKeyConstraint(['pass_id'], ['travel_urban_pass.id'], name=op.f('fk_travel_urban_journey_pass_id_travel_urban_pass')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_travel_urban_journey'))
    )
    with op.batch_alter_table('travel_urban_journey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_travel_urban_journey_pass_id'), ['pass_id'], unique=False)

    op.create_table('travel_booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flight_id', sa.Integer(), nullable=False),
    sa.Column('record_locator', sa.String(length=6), nullable=False),
    sa.Column('personal_id_number', sa.String(length=12), nullable=False),
    sa.Column('passenger_name', sa.String(length=200), nullable=False),
    sa.Column('seat', sa.String(length=4), nullable=False),
    sa.Column('checked_bags', sa.Integer(), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('bags_dropped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('security_passed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('boarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('checked_bags >= 0', name=op.f('ck_travel_booking_bags_not_negative')),
    sa.ForeignKeyConstraint(['flight_id'], ['travel_flight.id'], name=op.f('fk_travel_booking_flight_id_travel_flight')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_travel_booking')),
    sa.UniqueConstraint('flight_id', 'personal_id_number', name='uq_travel_booking_passenger'),
    sa.UniqueConstraint('flight_id', 'record_locator', name='uq_travel_booking_locator')
    )
    with op.batch_alter_table('travel_booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_travel_booking_flight_id'), ['flight_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_travel_booking_personal_id_number'), ['personal_id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_travel_booking_record_locator'), ['record_locator'], unique=False)

    op.create_table('travel_face_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('pass_id', sa.Integer(), nullable=True),
    sa.Column('sealed_template', sa.LargeBinary(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(booking_id IS NULL) <> (pass_id IS NULL)', name=op.f('ck_travel_face_token_one_owner')),
    sa.ForeignKeyConstraint(['booking_id'], ['travel_booking.id'], name=op.f('fk_travel_face_token_booking_id_travel_booking')),
    sa.ForeignKeyConstraint(['pass_id'], ['travel_urban_pass.id'], name=op.f('fk_travel_face_token_pass_id_travel_urban_pass')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_travel_face_token')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_travel_face_token_booking_id')),
    sa.UniqueConstraint('pass_id', name=op.f('uq_travel_face_token_pass_id'))
    )
    op.create_table('travel_touchpoint_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('pass_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.String(length=4), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('distance', sa.Float(), nullable=True),
    sa.Column('document_type', sa.String(length=10), nullable=True),
    sa.Column('staff_name', sa.String(length=100), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("decision IN ('pass', 'fail')", name=op.f('ck_travel_touchpoint_event_decision_known')),
    sa.ForeignKeyConstraint(['booking_id'], ['travel_booking.id'], name=op.f('fk_travel_touchpoint_event_booking_id_travel_booking')),
    sa.ForeignKeyConstraint(['pass_id'], ['travel_urban_pass.id'], name=op.f('fk_travel_touchpoint_event_pass_id_travel_urban_pass')),
    sa.ForeignKeyConstraint(['touchpoint_id'], ['travel_touchpoint.id'], name=op.f('fk_travel_touchpoint_event_touchpoint_id_travel_touchpoint')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_travel_touchpoint_event'))
    )
    with op.batch_alter_table('travel_touchpoint_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_travel_touchpoint_event_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_travel_touchpoint_event_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_travel_touchpoint_event_pass_id'), ['pass_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_travel_touchpoint_event_touchpoint_id'), ['touchpoint_id'], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    with op.batch_alter_table('travel_touchpoint_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_travel_touchpoint_event_touchpoint_id'))
        batch_op.drop_index(batch_op.f('ix_travel_touchpoint_event_pass_id'))
        batch_op.drop_index(batch_op.f('ix_travel_touchpoint_event_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_travel_touchpoint_event_booking_id'))

    op.drop_table('travel_touchpoint_event')
    op.drop_table('travel_face_token')
    with op.batch_alter_table('travel_booking', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_travel_booking_record_locator'))
        batch_op.drop_index(batch_op.f('ix_travel_booking_personal_id_number'))
        batch_op.drop_index(batch_op.f('ix_travel_booking_flight_id'))

    op.drop_table('travel_booking')
    with op.batch_alter_table('travel_urban_journey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_travel_urban_journey_pass_id'))

    op.drop_table('travel_urban_journey')
    with op.batch_alter_table('travel_touchpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_travel_touchpoint_urban_site_id'))
        batch_op.drop_index(batch_op.f('ix_travel_touchpoint_airport_id'))

    op.drop_table('travel_touchpoint')
    with op.batch_alter_table('travel_flight', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_travel_flight_scheduled_departure'))
        batch_op.drop_index(batch_op.f('ix_travel_flight_origin_airport_id'))
        batch_op.drop_index(batch_op.f('ix_travel_flight_airline_id'))

    op.drop_table('travel_flight')
    with op.batch_alter_table('travel_urban_site', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_travel_urban_site_operator'))

    op.drop_table('travel_urban_site')
    with op.batch_alter_table('travel_urban_pass', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_travel_urban_pass_personal_id_number'))

    op.drop_table('travel_urban_pass')
    op.drop_table('travel_airport')
    op.drop_table('travel_airline')
    # ### end Alembic commands ###
