"""The `digest` command's entry point: a build goes to the warm server when one is running
(digest.warm), anything else, or a build with no server, to the CLI in this process."""

import sys


def main() -> None:
    from digest.warm.client import hand_over

    code = hand_over(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from digest.cli import main as run_here

    run_here()
