"""Names the local world's parts share."""

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
# Every container the emulation starts carries this label, so a reset can find and remove them all.
CONTAINER_LABEL = "io.shipline.local"
