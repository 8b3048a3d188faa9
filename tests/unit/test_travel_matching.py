"""The 1:N rule of the gates on plain vectors: the best candidate under the threshold and
clearly ahead of the second (a near tie goes to staff); and the urban tariff."""

from __future__ import annotations

import numpy as np
import pytest

from civicstack.travel.models import UrbanSite
from civicstack.travel.touchpoints import MIN_GAP, Refused, best_of
from civicstack.travel.urban import fee_for


def at(distance: float) -> np.ndarray:
    """A vector `distance` away from the origin probe."""
    vector = np.zeros(128, dtype=np.float32)
    vector[0] = distance
    return vector


PROBE = at(0)


def test_the_nearest_candidate_under_the_threshold_is_chosen() -> None:
    chosen, distance = best_of(PROBE, [(at(0.7), "far"), (at(0.3), "near")], 0.5)
    assert chosen == "near"
    assert distance == pytest.approx(0.3)


@pytest.mark.parametrize(("gallery", "reason"), [
    ([], "no_match"),
    ([(at(0.55), "just over")], "no_match"),
    ([(at(0.30), "twin a"), (at(0.30 + MIN_GAP / 2), "twin b")], "near_tie"),
])
def test_no_match_and_near_ties_are_refused(gallery: list[tuple[np.ndarray, str]],
                                             reason: str) -> None:
    with pytest.raises(Refused) as refused:
        best_of(PROBE, gallery, 0.5)
    assert refused.value.reason == reason


def test_the_tariff_charges_the_base_fare_and_each_started_hour() -> None:
    metro = UrbanSite(base_fare=8000, hourly_fee=0)
    parking = UrbanSite(base_fare=0, hourly_fee=25000)
    assert fee_for(metro, 3.5) == 8000
    assert fee_for(parking, 0.1) == 25000
    assert fee_for(parking, 2.01) == 75000
