"""Central Coast Cauldrons: the potion shop. `create_app` builds the Flask app; `cauldrons` is the CLI."""
