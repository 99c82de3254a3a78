"""The metrics' domain: the liquid a barrel offer is filed under. The metrics themselves are SQL texts
(adapters/metrics.py), tested where they run, on SQLite and PostgreSQL: tests/integration/test_metrics.py, and over
HTTP tests/integration/test_read_routes.py."""

from __future__ import annotations

from domain.metrics import MIXED, liquid
from tests.helpers import BLUE, barrel


def test_a_barrel_of_one_colour_is_that_liquid_and_any_blend_is_mixed():
    assert liquid(barrel("MINI_BLUE_BARREL", potion_type=BLUE)) == "blue"
    assert liquid(barrel("ALMOST_RED", potion_type=(1 - 1e-7, 1e-7, 0.0, 0.0))) == "red"  # within 1e-6 of 1
    assert liquid(barrel("PURPLE", potion_type=(0.5, 0.0, 0.5, 0.0))) == MIXED
    assert liquid(barrel("NEARLY_RED", potion_type=(0.99, 0.01, 0.0, 0.0))) == MIXED
