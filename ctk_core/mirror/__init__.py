"""A Confluence page tree mirrored as a folder of Markdown files (``ctk export``; ``ctk push``
builds on the same pieces).

- :mod:`~ctk_core.mirror.frontmatter`: the YAML front matter of each file, read and written;
- :mod:`~ctk_core.mirror.slugs`: safe, stable file names from titles;
- :mod:`~ctk_core.mirror.layout`: the page tree -> relative file paths;
- :mod:`~ctk_core.mirror.fsio`: writing the user's files atomically, moving and pruning them;
- :mod:`~ctk_core.mirror.state`: the state file (``.ctk-export.json``) a rerun starts from;
- :mod:`~ctk_core.mirror.links`: Confluence links <-> relative paths in the Markdown;
- :mod:`~ctk_core.mirror.export`: planning and running an export.
- :mod:`~ctk_core.mirror.push` (with ``push_scan``, ``push_state``, ``push_apply``): reading a
  folder, planning and running a push.

Nothing here imports Click: the command is ``ctk_core.commands.export``.
"""
