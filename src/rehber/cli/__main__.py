"""``python -m rehber.cli``: the same as the ``rehber`` command."""

from rehber.cli.main import main

main()
