"""The one exception type for problems a user can fix."""


class ReprolabError(Exception):
    """An expected failure: bad input, bad config or a missing file.

    The message names the file, column or key, what was found and what was
    expected. Stage shells print it as one line and exit non-zero, without a
    traceback.
    """
