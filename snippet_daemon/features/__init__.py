"""The daemon's features, one file each; every module has ``register(server)``.

    commands   bbsnippets.create / list / open / update / delete, login / logout / whoami
    files      bbsnippets/stat, readDirectory, readFile, writeFile, delete, rename (the virtual FS)
    comments   bbsnippets.comments.* (line anchors via :mod:`snippet_daemon.anchors`)
    watch      bbsnippets.watch / unwatch / watchStatus / watchers (the poller itself: snippet_daemon.watcher)
    history    bbsnippets.history / diff
    pull       bbsnippets.pull (into a folder the user chose, and nowhere else)

``common`` holds the conversions they share (Bitbucket models -> protocol results).
"""
