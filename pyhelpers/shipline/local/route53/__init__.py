"""The emulated Route 53's DNS: a resolver answering from the world's hosted zones, and change status."""
