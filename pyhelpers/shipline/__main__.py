"""`python -m shipline` is the same as the `shipline` command."""
from .cli import main

raise SystemExit(main())
