"""The synthetic population: reproducible, unique ID numbers, families that make sense."""

from __future__ import annotations

from collections import Counter
from datetime import date

from civicstack.registry import pid
from civicstack.registry.models import Sex
from civicstack.registry.synth import REFERENCE_DATE, synthetic_population
from civicstack.registry.units import legacy_province_codes


def test_same_seed_same_people_other_seed_other_people() -> None:
    assert list(synthetic_population(200, seed=4)) == list(synthetic_population(200, seed=4))
    assert list(synthetic_population(200, seed=4)) != list(synthetic_population(200, seed=5))


def test_numbers_are_unique_and_encode_each_persons_birth_year_and_sex() -> None:
    people = list(synthetic_population(3000, seed=2))
    numbers = Counter(p["personal_id_number"] for p in people)
    assert len(people) == 3000
    assert numbers.most_common(1)[0][1] == 1
    for person in people:
        parts = pid.parse(person["personal_id_number"], legacy_province_codes())
        assert parts.birth_year == date.fromisoformat(person["date_of_birth"]).year
        assert parts.sex == Sex(person["sex"])


def test_households_start_with_a_head_and_children_are_younger_than_parents() -> None:
    people = list(synthetic_population(2000, seed=3))
    born = {p["personal_id_number"]: p["date_of_birth"] for p in people}
    first_of_household: dict[str, str] = {}
    for person in people:
        first_of_household.setdefault(person["household_code"], person["relation_to_head"])
        for parent in (person["father_id_number"], person["mother_id_number"]):
            if parent:
                assert born[parent] < person["date_of_birth"]
        assert person["date_of_birth"] < REFERENCE_DATE.isoformat()
    assert set(first_of_household.values()) == {"head"}
    relations = Counter(p["relation_to_head"] for p in people)
    assert relations["spouse"] > 0
    assert relations["child"] > 0
