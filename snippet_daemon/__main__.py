from snippet_daemon.cli import main

raise SystemExit(main())
