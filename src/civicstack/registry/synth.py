"""A synthetic Vietnamese population in the register's CSV format, reproducible from a seed.

People come in households (head, often a spouse, children) living in real wards of the 2025
units; ID numbers are consistent with each person's birth year, sex and the pre-reform code of
the province where they were born, and unique. Ages are counted from a fixed reference date,
not today, so the same seed gives the same file on any day.
"""

from __future__ import annotations

import csv
import random
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from civicstack.registry import pid
from civicstack.registry.csv_format import LINK_COLUMNS, PERSON_COLUMNS
from civicstack.registry.models import Sex
from civicstack.registry.units import current_provinces, current_wards, legacy_mappings

REFERENCE_DATE = date(2025, 7, 1)  # the day the two-tier administrative units took effect
PHONE_AGE = 14  # pupils of 14 to 17 have a phone of their own (and may open an eID account)
HOME_WARD_EVERY = 5  # one household in so many lives in one of the wards asked for, if any
COLUMNS = PERSON_COLUMNS + LINK_COLUMNS

SURNAMES = {"Nguyễn": 38, "Trần": 11, "Lê": 9, "Phạm": 7, "Hoàng": 5, "Huỳnh": 4, "Phan": 4,
            "Vũ": 4, "Võ": 3, "Đặng": 2, "Bùi": 2, "Đỗ": 1, "Hồ": 1, "Ngô": 1, "Dương": 1, "Lý": 1}
MIDDLE = {Sex.MALE: ("Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Thành", "Gia"),
          Sex.FEMALE: ("Thị", "Ngọc", "Thu", "Thanh", "Minh", "Phương", "Bảo", "Khánh")}
GIVEN = {
    Sex.MALE: ("An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Huy", "Khoa", "Long", "Nam",
               "Phong", "Quân", "Sơn", "Tài", "Thắng", "Tuấn", "Việt", "Vinh", "Đạt", "Khang"),
    Sex.FEMALE: ("Anh", "Chi", "Dung", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "My",
                 "Ngọc", "Nhung", "Oanh", "Phương", "Thảo", "Trang", "Vy", "Yến", "Hiền"),
}
ETHNICITIES = {"Kinh": 85, "Tày": 2, "Thái": 2, "Mường": 2, "Khmer": 2, "Hoa": 1, "Nùng": 1,
               "H'Mông": 2, "Dao": 1, "Ê Đê": 1, "Chăm": 1}
STREETS = ("Đường Lê Lợi", "Phố Huế", "Đường Trần Hưng Đạo", "Đường Nguyễn Trãi", "Thôn 3",
           "Đường Hai Bà Trưng", "Ấp Bình Minh", "Xóm 5", "Đường Quang Trung", "Tổ 12")


@dataclass(frozen=True)
class _Geography:
    wards: list[tuple[str, str]]  # (ward code, province code)
    province_names: dict[str, str]
    legacy_codes: dict[str, list[str]]  # current province -> pre-reform codes merged into it


def _geography() -> _Geography:
    wards = current_wards()
    legacy_provinces, _ = legacy_mappings(wards)
    legacy_codes: dict[str, list[str]] = {}
    for legacy in legacy_provinces:
        legacy_codes.setdefault(legacy["new_province_code"], []).append(legacy["code"])
    return _Geography([(w["code"], w["province_code"]) for w in wards],
                      {p["code"]: p["name"] for p in current_provinces()}, legacy_codes)


class _Generator:
    def __init__(self, seed: int, home_wards: tuple[str, ...] = ()) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (reproducible test data, not secrets)
        self.geo = _geography()
        province_of = dict(self.geo.wards)
        self.home_wards = [(code, province_of[code]) for code in home_wards]
        self.serials: Counter[str] = Counter()
        self.households = 0

    def pick(self, weighted: dict[str, int]) -> str:
        return self.rng.choices(list(weighted), weights=list(weighted.values()))[0]

    def household(self) -> list[dict[str, str]]:
        self.households += 1
        ward, province = self.rng.choice(self.geo.wards)
        if self.home_wards and self.households % HOME_WARD_EVERY == 1:
            # drawn all the same, so the rest of the population is the seed's whatever is asked
            ward, province = self.home_wards[self.households // HOME_WARD_EVERY
                                             % len(self.home_wards)]
        home = {"permanent_ward_code": ward, "household_code": f"HH{ward}{self.households:08d}",
                "permanent_address_line": f"{self.rng.randint(1, 300)} "
                                          f"{self.rng.choice(STREETS)}"}
        head_sex = Sex.MALE if self.rng.random() < 0.8 else Sex.FEMALE
        head = self.person(head_sex, self.rng.randint(25, 80), province, self.pick(SURNAMES),
                           home, "head")
        members = [head]
        if self.rng.random() < 0.75:
            age = max(20, self.age_of(head) + self.rng.randint(-5, 5))
            spouse = self.person(_other(head_sex), age, province, self.pick(SURNAMES), home,
                                 "spouse")
            spouse["spouse_id_number"] = head["personal_id_number"]
            members.append(spouse)
        members.extend(self.children(members, province, home))
        return members

    def children(self, parents: list[dict[str, str]], province: str,
                 home: dict[str, str]) -> Iterator[dict[str, str]]:
        mother = next((p for p in parents if p["sex"] == Sex.FEMALE.value), None)
        father = next((p for p in parents if p["sex"] == Sex.MALE.value), None)
        youngest_parent_age = min(self.age_of(p) for p in parents)
        surname = (father or parents[0])["full_name"].split()[0]
        for _ in range(self.rng.choice((0, 1, 1, 2, 2, 2, 3, 4))):
            age = youngest_parent_age - self.rng.randint(19, 40)
            if age < 0:
                continue
            child = self.person(self.rng.choice(tuple(Sex)), age, province, surname, home, "child")
            child["father_id_number"] = father["personal_id_number"] if father else ""
            child["mother_id_number"] = mother["personal_id_number"] if mother else ""
            yield child

    def person(self, sex: Sex, age: int, province: str, surname: str, home: dict[str, str],
               relation: str) -> dict[str, str]:
        born = REFERENCE_DATE - timedelta(days=age * 365 + self.rng.randint(1, 364))
        birth_province = province if self.rng.random() < 0.85 else self.rng.choice(
            list(self.geo.legacy_codes))
        legacy = self.rng.choice(self.geo.legacy_codes[birth_province])
        prefix = pid.compose_prefix(legacy, born.year, sex)
        self.serials[prefix] += 1
        name = f"{surname} {self.rng.choice(MIDDLE[sex])} {self.rng.choice(GIVEN[sex])}"
        number = pid.compose(legacy, born.year, sex, self.serials[prefix])
        if age >= 18:
            phone = f"09{self.rng.randrange(10**8):08d}"
        elif age >= PHONE_AGE:  # not drawn, so adding them left every adult's number as it was
            phone = f"08{zlib.crc32(number.encode()) % 10**8:08d}"
        else:
            phone = ""
        return {
            "personal_id_number": number,
            "full_name": name, "date_of_birth": born.isoformat(), "sex": sex.value,
            "place_of_birth_province_code": birth_province,
            "place_of_birth": self.geo.province_names[birth_province],
            "place_of_origin": self.geo.province_names[province],
            "ethnicity": self.pick(ETHNICITIES), "nationality": "VN",
            "temporary_ward_code": "", "temporary_address_line": "",
            "phone": phone,
            "relation_to_head": relation, "father_id_number": "", "mother_id_number": "",
            "spouse_id_number": "", **home,
        }

    @staticmethod
    def age_of(person: dict[str, str]) -> int:
        return (REFERENCE_DATE - date.fromisoformat(person["date_of_birth"])).days // 365


def _other(sex: Sex) -> Sex:
    return Sex.FEMALE if sex == Sex.MALE else Sex.MALE


def synthetic_population(count: int, seed: int = 1,
                         home_wards: tuple[str, ...] = ()) -> Iterator[dict[str, str]]:
    """`count` people, household by household, heads and spouses before their children; one
    household in HOME_WARD_EVERY in `home_wards`, in turn (the demo officials' wards)."""
    generator = _Generator(seed, home_wards)
    produced = 0
    while produced < count:
        for person in generator.household()[: count - produced]:
            produced += 1
            yield person


def write_population_csv(path: Path, count: int, seed: int = 1,
                         home_wards: tuple[str, ...] = ()) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(synthetic_population(count, seed, home_wards))
    return path
