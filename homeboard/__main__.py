"""Allow ``python -m homeboard``."""

from homeboard.cli import main

if __name__ == "__main__":
    main()
