"""Run the command line as `python -m plp`."""

from plp.cli import main

main()
