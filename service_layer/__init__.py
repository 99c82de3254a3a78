"""Use cases: the unit of work, the services that change the shop, and the views that read it."""
