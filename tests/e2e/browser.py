"""What the browser tests wait for: the app idle after a script run, the page drawn, a rerun that an
action causes, and how long a load or a rerun may take. The pages themselves are opened by the
`open_page` and `open_lab` fixtures (conftest.py).

"Idle" is not "drawn". READY (the script state `notRunning`) says the server has sent everything the
run made, not that the browser shows it: Streamlit loads the code of most elements (widgets, code
blocks, charts, tables) on first use, and until it has loaded, parsed and mounted it the element is a
placeholder (`stSkeleton`). In a new browser context, on a busy 2-core machine, that takes seconds
after the run is over; and a widget set from a link or from st.session_state first mounts empty and
shows its value a moment later. So a test waits for what it reads: `expect(locator)` with a timeout
for a widget's value, `wait_until_drawn` before reading what a load drew, and `arm_rerun_watch` /
`wait_for_rerun` around an action that reruns the script (the state is still `notRunning` right after
the action, before the rerun has started, so waiting for READY there waits for nothing).
"""

READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
LOAD_TIMEOUT_MS = 120_000  # the first load compiles JAX code on a cold, 2-core machine
RERUN_TIMEOUT_MS = 60_000

# In page context: the script is idle, no element is still a placeholder for its loading code, and
# every component's code has come and taken its data (optviz/component_code.py's loader marks it):
# Streamlit draws a component's HTML first, and a touch before its code listens would be lost.
JS_DRAWN = """() => document.querySelector("[data-testid='stApp'][data-test-script-state='notRunning']")
                   && !document.querySelector("[data-testid='stSkeleton']")
                   && [...document.querySelectorAll("[class^='optviz-'][data-testid]")]
                          .every((element) => element.closest("[data-optviz-live]"))"""


def wait_until_drawn(page, timeout: float = LOAD_TIMEOUT_MS) -> None:
    """Wait until the script run is over and every element it sent is drawn (no placeholders)."""
    page.wait_for_function(JS_DRAWN, timeout=timeout)


def arm_rerun_watch(page, timeout: float = LOAD_TIMEOUT_MS) -> None:
    """Start watching for the next script run (call before the action that triggers it). Waits until
    the page is idle and drawn first: an action during a run (e.g. one a tab switch started) makes
    Streamlit stop that run and start another with no `notRunning` in between, so a watch armed then
    would never see the action's run start."""
    wait_until_drawn(page, timeout)
    page.evaluate(
        """() => {
            const app = document.querySelector("[data-testid='stApp']");
            window.__e2eRan = false;
            window.__e2eRanAt = null;
            if (window.__e2eWatch) window.__e2eWatch.disconnect();
            // A run can start and end between two callbacks (a light page runs in a few ms): the
            // records' old values show it even when the attribute says notRunning again.
            window.__e2eWatch = new MutationObserver((records) => {
                const ran = app.getAttribute('data-test-script-state') === 'running'
                    || records.some((r) => r.oldValue === 'running');
                if (ran && !window.__e2eRan) {
                    window.__e2eRan = true;
                    window.__e2eRanAt = performance.now();
                }
            });
            window.__e2eWatch.observe(
                app, {attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state']}
            );
        }"""
    )


def wait_for_rerun(page, what: str, timeout: float = RERUN_TIMEOUT_MS) -> None:
    """Wait until the watched script run has started and finished, and what it sent is drawn."""
    try:
        page.wait_for_function(
            f"""() => window.__e2eRan && ({JS_DRAWN})()""",
            timeout=timeout,
        )
    except Exception as error:
        raise AssertionError(f"no completed rerun within {timeout:.0f} ms after {what}") from error
