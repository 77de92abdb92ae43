"""`python -m reslint`: the same as the `reslint` command."""

from reslint.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
