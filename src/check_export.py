"""Check every export of a run the way the BabyLM pipeline will load it.

python src/check_export.py run_dir=runs/<name>
"""

import sys

import transformers
from rich.console import Console

from taam.errors import exit_on_user_error
from taam.publish.export_check import check_run, checks_table


def main(argv: list[str]) -> int:
    args = dict(arg.split("=", 1) for arg in argv if "=" in arg)
    if "run_dir" not in args:
        print("usage: python src/check_export.py run_dir=runs/<name>", file=sys.stderr)
        return 2
    transformers.utils.logging.disable_progress_bar()
    with exit_on_user_error():
        checks = check_run(args["run_dir"])
    Console().print(checks_table(checks))
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
