"""Names the local world's parts share."""

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
# Every container the emulation starts carries this label (its value: the container's role)...
CONTAINER_LABEL = "io.shipline.local"
# ...and this one, naming the world that started it: a world's reset and stop remove only their own.
WORLD_LABEL = "io.shipline.local.world"
