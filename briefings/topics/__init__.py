"""Topics: the taxonomy, tagging articles with topics, and trending terms (pure).

Owns the topics file format (TOML, user-editable) and the shipped linear model
(:mod:`~briefings.topics.definitions`), the :class:`~briefings.topics.taxonomy.Taxonomy`
that tags an article and resolves what a user typed, and trending terms across recent
stories. It may import the standard library, numpy, :mod:`briefings.text` and
:mod:`briefings.errors`; never ``storage``, ``sqlalchemy`` or ``telegram``.
"""
