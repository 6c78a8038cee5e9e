"""What the browser tests wait for: the app idle after a script run, and how long a load or a rerun may
take. The pages themselves are opened by the `open_page` and `open_lab` fixtures (conftest.py)."""

READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
LOAD_TIMEOUT_MS = 120_000  # the first load compiles JAX code on a cold, 2-core machine
RERUN_TIMEOUT_MS = 60_000
