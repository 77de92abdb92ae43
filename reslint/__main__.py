"""`python -m reslint`: the same as the `reslint` command."""

from reslint.cli import entry

if __name__ == "__main__":
    entry()
