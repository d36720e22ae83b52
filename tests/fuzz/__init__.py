"""Generated bad inputs for the CLI (see mutations.py and run_corpus.py)."""
