"""`cauldrons simulate`: a local potion exchange that plays the shop over HTTP, with faults, and checks its books.

world.py     what the worlds share: customers, catalog lines, barrel offers, visits with their draws, the World
             protocol, and shoppers(), a game's visitors from the seed alone
classic.py   the classic world's rules (invented); world2026.py the 2026 world's (docs/world-2026.md);
worlds.py    the profiles by name
oracle.py    the best fixed catalog for a game's shoppers, the yardstick for the shop's gold
books.py     the exchange's own books of the shop (gold, ml, potions, capacity) and the contract's checks
transport.py one request and its answer, over real HTTP or a Flask test client
faults.py    the wire with a real network's faults: lost replies, retries (some delayed), concurrent duplicates
game.py      the game loop: ticks, days, the sequences of calls, and the comparison of books after every tick
embedded.py  the shop itself on a temporary SQLite database, for runs without --url
report.py    progress bars, the summary table, JSON and the plot

The world modules, oracle.py and books.py are pure (no I/O, no clock) and know nothing of the shop's code: the books
must stay an independent tally of what was delivered and sold.
"""
