"""`python -m preflight`: see preflight/cli.py for the subcommands."""

import os
import sys

from preflight.cli import main

if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): nothing more can be shown; not a preflight failure to trace.
        status = 1
    # Everything is written and the pack and feeder have ended; freeing a large program's object
    # graph one object at a time would only add seconds (2 s at 1,000 functions) before the exit.
    os._exit(status)
