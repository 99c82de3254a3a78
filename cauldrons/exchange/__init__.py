"""`cauldrons simulate`: a local potion exchange that plays the shop over HTTP, with faults, and checks its books.

world.py     the seeded rules of the game: customers, what they like and can afford, the wholesale catalog
books.py     the exchange's own books of the shop (gold, ml, potions, capacity) and the contract's checks
transport.py one request and its answer, over real HTTP or a Flask test client
faults.py    the wire with a real network's faults: lost replies, retries (some delayed), concurrent duplicates
game.py      the game loop: ticks, days, the sequences of calls, and the comparison of books after every tick
embedded.py  the shop itself on a temporary SQLite database, for runs without --url
report.py    progress bars, the summary table, JSON and the plot

world.py and books.py are pure (no I/O, no clock) and know nothing of the shop's code: the books must stay an
independent tally of what was delivered and sold.
"""
