"""The one exception type for problems a user can fix."""


class ReprolabError(Exception):
    """An expected failure: bad input, bad config or a missing file.

    The message names the file, column or key, what was found and what was
    expected. Stage shells print it as one line and exit non-zero, without a
    traceback.
    """


def shown(value: object) -> str:
    """A value from the data as a message shows it: numpy scalars as plain numbers
    (`inf`, `5`), not as their repr (`np.float64(inf)`, `np.int64(5)`)."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    return repr(value)
