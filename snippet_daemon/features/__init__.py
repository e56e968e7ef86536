"""The daemon's features, one file each, each a ``HANDLERS`` map from method name to handler
(``snippet_daemon.app`` binds them all to the server; a feature never imports the server at run time).

    snippets   bbsnippets.create / list / open / update / delete / duplicate / workspaces
    account    bbsnippets.login / logout / whoami / health
    files      bbsnippets/stat, readDirectory, readFile, writeFile, delete, rename (the virtual FS)
    comments   bbsnippets.comments.* (line anchors via :mod:`snippet_daemon.anchors`)
    watch      bbsnippets.watch / unwatch / watchStatus / watchers, /didChange (the poller: snippet_daemon.watcher)
    history    bbsnippets.history / diff / restore
    pull       bbsnippets.pull (into a folder the user chose, and nowhere else)
    search     bbsnippets.search and LSP workspace/symbol (the index itself: snippet_daemon.index)
    push       bbsnippets.link / links / unlink / status / push (the links themselves: snippet_daemon.links)
    patch      bbsnippets.applyPatch / shareDiff (patches: snippet_daemon.patches)

``common`` holds what they share: the ``Handler`` type and the conversions (Bitbucket models -> protocol results).
"""
