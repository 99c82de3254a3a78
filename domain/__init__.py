"""The pure model of the shop: ledger, potions, carts, planners. Standard library only."""
