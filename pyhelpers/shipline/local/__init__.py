"""The local emulation behind `shipline local` and the test bed: moto in server mode (in this process,
so the emulation can drive its state), Debian's docker-registry, and the local Docker engine.

The product never imports this package; it only sees AWS_ENDPOINT_URL.
"""
