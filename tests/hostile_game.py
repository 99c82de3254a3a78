"""A short game over HTTP whose every text the exchange sends is hostile: mathtext that matplotlib cannot parse, HTML
and script, entities, quotes, backslashes, markdown. Played through the routes (so through their schemas), by any
client: the Flask test client (tests/integration/test_hostile_text.py, tests/e2e/test_report.py) or real HTTP
(tests/e2e/test_dashboard_browser.py). Every call must succeed: a refusal or a 5xx fails the game."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Text the exchange controls, hostile to whatever shows it (each at most 20 characters: a game day is that long).
DAYS = ["$^$", "$\\notacommand{$", "<script>x</script>", "&amp;\"'<b>&lt;"]
PAYLOADS = [
    "$^$",
    "$\\notacommand{$",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "&amp; &lt;b&gt;",
    "\"quoted\" 'single'",
    "_under_ *star* `tick` | pipe \\",
]
Send = Callable[[str, Any], tuple[int, Any]]  # POST (path, JSON body) -> (status, JSON reply or None)


def customer(n: int) -> dict[str, object]:
    """The n-th hostile customer: every text field a payload."""
    text = PAYLOADS[n % len(PAYLOADS)]
    return {
        "customer_id": f"hostile-{n}",
        "customer_name": text,
        "character_class": PAYLOADS[(n + 1) % len(PAYLOADS)],
        "character_species": PAYLOADS[(n + 2) % len(PAYLOADS)],
        "level": 1 + n % 20,
    }


def barrels(day: int) -> list[dict[str, object]]:
    """The exchange's offer: a barrel of each colour whose sku is a payload."""
    colours = ([1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0], [0.5, 0, 0.5, 0])
    return [
        {
            "sku": f"{PAYLOADS[(day + i) % len(PAYLOADS)]}#{i}",
            "ml_per_barrel": 500,
            "potion_type": colour,
            "price": 40 + 10 * i + day,
            "quantity": 5,
        }
        for i, colour in enumerate(colours)
    ]


def play_hostile(send: Send) -> None:
    """Each hostile day at two game hours: the clock, the barrel offer, a delivery of red, bottling, a visit of
    hostile customers, and a checkout per customer (each buying a red potion)."""

    def ok(path: str, body: Any) -> Any:
        status, reply = send(path, body)
        assert 200 <= status < 300, (path, status, reply)
        return reply

    n = 0
    for d, day in enumerate(DAYS):
        for hour in (0, 12):
            ok("/info/current_time", {"day": day, "hour": hour})
            offer = barrels(d)
            ok("/barrels/plan", offer)
            ok(f"/barrels/deliver/hostile-{d}-{hour}", [{**offer[0], "price": 10, "quantity": 1}])
            ok(f"/bottler/deliver/hostile-{d}-{hour}", [{"potion_type": [100, 0, 0, 0], "quantity": 4}])
            visitors = [customer(n + i) for i in range(3)]
            ok(f"/carts/visits/hostile-{d}-{hour}", visitors)
            for who in visitors:
                cart_id = ok("/carts/", who)["cart_id"]
                ok(f"/carts/{cart_id}/items/RED_POTION", {"quantity": 1})
                ok(f"/carts/{cart_id}/checkout", {"payment": "gold"})
            n += len(visitors)
