"""Stories: which articles tell the same story (pure).

Owns exact and near-duplicate detection (content hashes, MinHash) and the event matching
that joins reports of one event across outlets. It takes article data (titles,
keyphrases, times, signatures) and returns keys, scores and indexes; the rows it indexes
are loaded by ``storage`` functions. It may import the standard library, numpy,
datasketch and :mod:`briefings.text`; never ``storage``, ``sqlalchemy`` or ``telegram``.
"""
