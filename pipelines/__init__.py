"""Apache Beam pipelines over scored tweets (Dataflow in production, the DirectRunner locally).

- ``stream``: bad-buzz detection over the ``tweets-scored`` subscription, alerts to the alert topic;
- ``backtest``: the same transforms over a file of tweets, alerts to a file (what would have fired);
- ``score``: bulk scoring of archived tweets with the serving bundle.

The pipelines import the serving library (``sentiment``), never the other way round.
"""
