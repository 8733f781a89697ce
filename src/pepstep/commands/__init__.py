"""Subcommands of the ``pepstep`` CLI and the options they share."""
