"""The notifier: a bad-buzz alert (``sentiment.alert_payload``) turned into a chat message and posted to a webhook.

    markup.py       untrusted text (tweets, drivers, brands) made inert for each format
    content.py      what a message says, in the team's words, format-neutral
    slack.py        Slack Block Kit (``blocks``) for an incoming webhook
    google_chat.py  Google Chat card (``cardsV2``), threaded by alert id, idempotent by request id
    webhook.py      one HTTPS POST with bounded timeouts; what its answer means (delivered / retry / refused)
    memory.py       what one instance remembers: alerts posted (dedupe) and posts per brand (rate limit)
    notifier.py     the order of things for one alert: dedupe, rate limit, render, post

The CloudEvent handler is ``sentiment.notify_api``; the per-instance ``Notifier`` is created by
``sentiment.instance.notifier()``. Nothing here is imported by the scoring functions.
"""
