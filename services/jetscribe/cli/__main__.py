"""`python -m jetscribe.cli`: the same as the `jetscribe` command."""

from . import main

main()
