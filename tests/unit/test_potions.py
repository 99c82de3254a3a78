import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.potions import Barrel, PotionType


def test_a_potion_type_is_whole_percents_summing_to_100():
    assert PotionType(50, 0, 50, 0).ml(2) == {"red": 100, "green": 0, "blue": 100, "dark": 0}
    with pytest.raises(ValueError, match="summing to 100"):
        PotionType(50, 0, 0, 0)
    with pytest.raises(ValueError):
        PotionType(120, -20, 0, 0)


def test_barrel_fractions_become_whole_ml_without_losing_any():
    thirds = Barrel("THIRDS", 100, (1 / 3, 1 / 3, 1 / 3, 0.0), 1, 1)
    assert thirds.ml() == {"red": 34, "green": 33, "blue": 33, "dark": 0}


@given(
    ml=st.integers(1, 10_000),
    quantity=st.integers(0, 50),
    weights=st.lists(st.integers(0, 1000), min_size=4, max_size=4).filter(any),
)
def test_barrel_ml_always_totals_exactly_what_was_bought(ml, quantity, weights):
    fractions = tuple(w / sum(weights) for w in weights)
    split = Barrel("B", ml, fractions, 1, quantity).ml()  # type: ignore[arg-type]
    assert sum(split.values()) == ml * quantity
    assert all(n >= 0 for n in split.values())
    assert all(abs(n - ml * quantity * f) < 1 for n, f in zip(split.values(), fractions))


@given(ml=st.integers(1, 1_000_000), quantity=st.integers(1, 1000), error=st.floats(-1e-6, 1e-6, allow_nan=False))
def test_fractions_a_rounding_error_off_one_still_give_exactly_the_ml_bought(ml, quantity, error):
    split = Barrel("B", ml, (0.5 + error, 0.5, 0.0, 0.0), 0, quantity).ml()
    assert sum(split.values()) == ml * quantity
