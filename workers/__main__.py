"""`python -m workers [QUEUE…]`: the same as `daojiao worker`."""

import sys

from app.cli import main

main(["worker", *sys.argv[1:]])
