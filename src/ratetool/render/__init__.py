"""Output at the edge: tables, colour and charts for people, drawn with rich. JSON never goes
through here (it is printed plainly).

Imported only by commands that draw: ``--version``, ``--help``, shell completion and ``rate`` up
to its review never import it, nor rich. Every terminal decision is rich's (width, colour under
``NO_COLOR``, ``FORCE_COLOR``, ``TERM=dumb`` and pipes, the encoding); meaning never rests on
colour alone: bands carry a symbol and a word, and a sparkline is plain characters.

- ``text``: symbols, sparklines, numbers with their places, band labels and styles.
- ``tables``: the console and the borderless tables every summary is drawn with.
- ``client``: ``summary CLIENT``. ``caseload``: ``summary`` and ``summary --by month``.
- ``chart``: the line chart of ``ratetool chart`` (plotext). ``stats``: ``ratetool stats``.

Commands import the module they draw with (``ratetool.render.client``...): a run imports
only what it draws.
"""
