"""`python -m amphub.entrypoints.cli_main`: the CLI without the installed script."""

from amphub.entrypoints.cli import main

if __name__ == "__main__":
    main()
