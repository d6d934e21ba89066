"""Work that runs outside a web request, with progress: a round's export, a large import's check and write.

A job is a row of ``jobs`` (``evidence.models.Job``): who asked, what for, how far it has got, its result.
``store`` moves it through its states, ``work.run`` runs it (the same function in every runner), ``progress``
carries its progress from the code doing the work, and ``files`` keeps its result file. The runners (a thread
pool, or RQ on Redis) and the heartbeat that shows their process is alive are the portal's, in
``portal.jobs``. Nothing here imports the others on import, so the import reader can use ``progress``.
"""
