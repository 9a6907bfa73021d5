"""What segssl's command-line tools (``tools/*.py``) share: the help layout and the bad-input exit.

* :class:`HelpFormatter`: argparse's help with every option's default shown and the description
  (a tool's docstring) kept as written.
* :func:`fail` / :func:`exit_on_bad_input`: bad input ends with one line on stderr,
  ``<tool>: error: <message>``, as argparse's own usage errors do, and exit status 2, before
  any work is done and without a traceback.

Only the standard library is imported here, so a tool's ``--help`` stays fast.
"""
import argparse
import sys
from contextlib import contextmanager

BAD_INPUT_EXIT = 2
BAD_INPUT_ERRORS = (ValueError, FileNotFoundError, FileExistsError, NotADirectoryError)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """``ArgumentDefaultsHelpFormatter`` + ``RawDescriptionHelpFormatter``: the description is
    printed as written and ``(default: ...)`` is appended to an option's help, except where
    the help already says its default (``%(default)s`` or ``(default...``), the option is
    required, or its default is None (the help says what None means)."""

    def _get_help_string(self, action):
        text = action.help or ''
        if '%(default)' in text or '(default' in text or action.required \
                or action.default is None:
            return text
        return super()._get_help_string(action)


def fail(tool, message):
    """Print ``<tool>: error: <message>`` on stderr (one line) and exit with status 2.

    Args:
        tool (str): the tool's name, e.g. ``'make_label_splits'``.
        message (str | BaseException): what was wrong and what was expected; an exception is
            printed by its message (a ``KeyError`` without quotes).
    """
    if isinstance(message, KeyError) and message.args:
        message = message.args[0]
    text = ' '.join(str(message).split('\n')).strip()
    sys.stderr.write(f'{tool}: error: {text}\n')
    sys.stderr.flush()
    raise SystemExit(BAD_INPUT_EXIT)


@contextmanager
def exit_on_bad_input(tool, errors=BAD_INPUT_ERRORS):
    """Turn an exception of ``errors`` raised in the block into :func:`fail`'s one line + exit 2.

    Usage::

        with exit_on_bad_input('make_coco_subset'):
            manifest = make_coco_subsets(...)
    """
    try:
        yield
    except errors as e:
        fail(tool, e)
