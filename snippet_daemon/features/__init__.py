"""The daemon's features, one file each; every module has ``register(server)``.

    commands   bbsnippets.create / list / open / update / delete, login / logout / whoami
    files      bbsnippets/stat, readDirectory, readFile, writeFile, delete, rename (the virtual FS)
    comments   bbsnippets.comments.* (line anchors via :mod:`snippet_daemon.anchors`)
    watch      bbsnippets.watch / unwatch / watchStatus / watchers, and the poller behind didChange
    history    bbsnippets.history / diff
    pull       bbsnippets.pull (into a folder the user chose, and nowhere else)

``common`` holds the conversions they share (Bitbucket models -> protocol results).
"""
