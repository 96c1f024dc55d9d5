"""`python -m replylint` is the `replylint` command."""

from .cli import main

raise SystemExit(main())
