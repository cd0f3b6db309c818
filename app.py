"""Run the dashboard: `python app.py` (= `trialmon serve --demo`).

On an empty database it first builds the synthetic demo data, so a newcomer's first
start shows something; `trialmon serve` alone never does.
"""

import sys

from shell.cli import main

if __name__ == "__main__":
    main(["serve", "--demo", *sys.argv[1:]])
