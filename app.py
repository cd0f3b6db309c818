"""Run the dashboard: `python app.py` (same as `trialmon serve`).

On an empty embedded database it first builds the synthetic demo data.
"""

from shell.cli import main

if __name__ == "__main__":
    main(["serve", *__import__("sys").argv[1:]])
